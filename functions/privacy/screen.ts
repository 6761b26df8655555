/**
 * The policy applied to texts: masked (each value replaced by its kind), or refused when the policy blocks (a 400
 * naming the kinds found, never the values). What is found is counted per kind for the response header.
 */
import { ApiError } from '../http/errors.js';
import { findPii, maskPii, PII_KINDS, type PiiCounts, type PiiKind } from './pii-detect.js';
import type { PiiMode } from './policy.js';

/** A request's count of what was found, per kind; the privacy middleware writes it as `x-edge-maas-pii`. */
export interface Screening {
  pii: PiiMode;
  counts: PiiCounts;
  /** Set once a text went through the policy (on its way out of the process); in-process work is not scanned. */
  scanned?: boolean;
}

export const PII_COUNT_HEADER = 'x-edge-maas-pii';

export function piiBlocked(kinds: PiiKind[], where: string, param = where): ApiError {
  return new ApiError(400, `the request holds personal data (${kinds.join(', ')}) in ${where}, and its privacy policy blocks it (pii=block)`,
    'invalid_request_error', 'pii_blocked', param);
}

/** The text as it may leave the process: itself (off), masked, or a throw (block) naming the field. */
export function screenText(text: string, screening: Screening, where: string, param = where): string {
  if (screening.pii === 'off') return text;
  screening.scanned = true;
  if (screening.pii === 'block') {
    const found = findPii(text);
    if (found.length > 0) {
      for (const { kind } of found) screening.counts[kind] = (screening.counts[kind] ?? 0) + 1;
      throw piiBlocked(PII_KINDS.filter((kind) => found.some((f) => f.kind === kind)), where, param);
    }
    return text;
  }
  return maskPii(text, screening.counts).text;
}

/** Integers this long can be a card, phone or account number written as a JSON number. */
const LONGEST_PLAIN_NUMBER = 1e6;

const pathOf = (parent: string, key: string) => (parent === '' ? key : `${parent}.${key}`);

function screenValue(value: unknown, screening: Screening, path: string): unknown {
  if (typeof value === 'string') return screenText(value, screening, path);
  if (typeof value === 'number') {
    if (Number.isInteger(value) && Math.abs(value) < LONGEST_PLAIN_NUMBER) return value;
    // Its digit runs as a text apart (a sign, a decimal point or an exponent split them): -4111111111111111 and
    // 0.4111111111111111 hold a card number as surely as 4111111111111111 does.
    const digits = String(value).replace(/[-+.eE]/g, ' ');
    if (!/\d{7}/.test(digits)) return value;
    const screened = screenText(digits, screening, path);
    return screened === digits ? value : screened;
  }
  if (Array.isArray(value)) return value.map((item, i) => screenValue(item, screening, `${path}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    // A name that is itself personal data is never echoed: the error names the object that holds it.
    const nameWhere = path === '' ? 'a field name of the body' : `a field name in ${path}`;
    for (const [name, item] of Object.entries(value)) {
      const masked = screenText(name, screening, nameWhere, path === '' ? 'body' : path);
      // Two names masked alike ("a@b.co" and "c@d.co" both "[EMAIL]") would keep one value: the others are numbered.
      let unique = masked;
      if (masked !== name) for (let n = 2; Object.hasOwn(out, unique) || Object.hasOwn(value, unique); n++) unique = `${masked} ${n}`;
      out[unique] = screenValue(item, screening, pathOf(path, name));
    }
    return out;
  }
  return value;
}

/**
 * An OpenAI completion or chat body as it may go upstream: every string in it screened, wherever it is (prompt,
 * messages and their names, suffix, stop, user, metadata, tool descriptions, fields the schema does not know, which
 * are forwarded too), object keys and long integers included. Only the top-level model id is left as it is: it
 * picks the upstream. A role or a part's type is screened like the rest (the API's words hold no personal data, and
 * a `type` elsewhere, as in metadata or a JSON schema, is the user's).
 */
export function screenGenerationBody(body: Record<string, unknown>, screening: Screening): Record<string, unknown> {
  if (screening.pii === 'off') return body;
  const { model, ...rest } = body;
  const screened = screenValue(rest, screening, '') as Record<string, unknown>;
  return model === undefined ? screened : { model, ...screened };
}
