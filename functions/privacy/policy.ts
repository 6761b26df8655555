/**
 * The privacy policy of a request: how personal data in what leaves the process is treated (`pii`: off, mask,
 * block) and whether anything beyond the usage record may be kept (`retention`: standard, none). A key's policy,
 * else its tenant's default, else the server's default (off, standard); the `x-edge-maas-privacy` header may
 * only make a request stricter ("pii=block, retention=none"): a laxer value there is ignored, an unknown one is a 400.
 */
import { invalidRequest } from '../http/errors.js';

export const PII_MODES = ['off', 'mask', 'block'] as const;
export const RETENTIONS = ['standard', 'none'] as const;
export type PiiMode = (typeof PII_MODES)[number];
export type Retention = (typeof RETENTIONS)[number];

export interface PrivacyPolicy {
  pii: PiiMode;
  retention: Retention;
}

export const OPEN_POLICY: PrivacyPolicy = { pii: 'off', retention: 'standard' };
export const PRIVACY_HEADER = 'x-edge-maas-privacy';

const FIELDS = { pii: PII_MODES, retention: RETENTIONS } as const;
type Field = keyof typeof FIELDS;
const isField = (name: string): name is Field => Object.hasOwn(FIELDS, name);

/** The stricter of two policies, field by field (block > mask > off; none > standard). */
export function stricter(a: PrivacyPolicy, b: Partial<PrivacyPolicy>): PrivacyPolicy {
  const pii = b.pii && PII_MODES.indexOf(b.pii) > PII_MODES.indexOf(a.pii) ? b.pii : a.pii;
  const retention = b.retention === 'none' ? 'none' : a.retention;
  return { pii, retention };
}

const allowed = (field: Field) => FIELDS[field].map((v) => `"${v}"`).join(', ');

/** The header's settings: "pii=mask", "pii=block; retention=none" (commas or semicolons); a 400 names what is wrong. */
export function parsePrivacyHeader(header: string): Partial<PrivacyPolicy> {
  const asked: Partial<PrivacyPolicy> = {};
  for (const part of header.split(/[;,]/)) {
    const item = part.trim();
    if (item === '') continue;
    const [rawName, ...rest] = item.split('=');
    const name = rawName!.trim().toLowerCase();
    const value = rest.join('=').trim().toLowerCase();
    if (!isField(name)) throw invalidRequest(`${PRIVACY_HEADER}: unknown setting "${name.slice(0, 40)}"; the settings are pii and retention`, PRIVACY_HEADER, 'invalid_privacy_header');
    if (!(FIELDS[name] as readonly string[]).includes(value)) {
      throw invalidRequest(`${PRIVACY_HEADER}: ${name} must be one of ${allowed(name)} (got "${value.slice(0, 40)}")`, PRIVACY_HEADER, 'invalid_privacy_header');
    }
    (asked as Record<Field, string>)[name] = value;
  }
  return asked;
}

/** A policy as the admin API takes it: a JSON object with pii and/or retention and nothing else; a 400 names the field. */
export function parsePolicyBody(body: Record<string, unknown>, previous: PrivacyPolicy): PrivacyPolicy {
  for (const name of Object.keys(body)) {
    if (!isField(name)) throw invalidRequest(`unknown field "${name.slice(0, 40)}"; a privacy policy has pii and retention`, name, 'unknown_field');
  }
  const next = { ...previous };
  for (const field of Object.keys(FIELDS) as Field[]) {
    const value = body[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !(FIELDS[field] as readonly string[]).includes(value)) {
      throw invalidRequest(`${field} must be one of ${allowed(field)}`, field, 'invalid_value');
    }
    (next as Record<Field, string>)[field] = value;
  }
  return next;
}

/** The policy as a header value and in answers: "pii=mask; retention=none". */
export const describePolicy = (policy: PrivacyPolicy): string => `pii=${policy.pii}; retention=${policy.retention}`;
