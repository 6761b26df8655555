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

/** Each string of an OpenAI completion or chat body that carries what the user wrote, screened; the rest as it was. */
export function screenGenerationBody(body: Record<string, unknown>, screening: Screening): Record<string, unknown> {
  if (screening.pii === 'off') return body;
  const out: Record<string, unknown> = { ...body };
  if (typeof body.prompt === 'string') out.prompt = screenText(body.prompt, screening, 'prompt');
  else if (Array.isArray(body.prompt)) out.prompt = body.prompt.map((p, i) => (typeof p === 'string' ? screenText(p, screening, `prompt[${i}]`) : p));
  if (Array.isArray(body.messages)) {
    out.messages = body.messages.map((message: unknown, i) => {
      if (typeof message !== 'object' || message === null) return message;
      const m = message as Record<string, unknown>;
      if (typeof m.content === 'string') return { ...m, content: screenText(m.content, screening, `messages[${i}].content`) };
      if (Array.isArray(m.content)) {
        return {
          ...m,
          content: m.content.map((part: unknown, j) => {
            const p = part as Record<string, unknown> | null;
            return p && typeof p.text === 'string' ? { ...p, text: screenText(p.text, screening, `messages[${i}].content[${j}].text`) } : part;
          }),
        };
      }
      return m;
    });
  }
  // Stop strings go upstream too; OpenAI's end-user id is often an e-mail address.
  if (typeof body.stop === 'string') out.stop = screenText(body.stop, screening, 'stop');
  else if (Array.isArray(body.stop)) out.stop = body.stop.map((s, i) => (typeof s === 'string' ? screenText(s, screening, `stop[${i}]`) : s));
  if (typeof body.user === 'string') out.user = screenText(body.user, screening, 'user');
  return out;
}
