/**
 * The privacy policy of a request: how personal data in what leaves the process is treated (`pii`: off, mask,
 * block), whether anything beyond the usage record may be kept (`retention`: standard, none), and the jurisdiction
 * it is pinned to (`region`: none, or one of the registry's REGIONS). A key's policy, else its tenant's default, else
 * the server's default (off, standard, no region); a key without a region of its own has its tenant's. The
 * `x-edge-maas-privacy` header may only make a request stricter ("pii=block, retention=none, region=eu"): a laxer
 * value there is ignored, an unknown one is a 400, a region other than the one the key is pinned to a 403.
 */
import { ApiError, invalidRequest } from '../http/errors.js';
import { REGIONS, type Region } from '../registry/registry.js';
import { findPii } from './pii-detect.js';

export const PII_MODES = ['off', 'mask', 'block'] as const;
export const RETENTIONS = ['standard', 'none'] as const;
export type PiiMode = (typeof PII_MODES)[number];
export type Retention = (typeof RETENTIONS)[number];

export interface PrivacyPolicy {
  pii: PiiMode;
  retention: Retention;
  /** Pinned: sent only to upstreams of this region, and run in-process only where the server runs in it. */
  region?: Region;
}

export const OPEN_POLICY: PrivacyPolicy = { pii: 'off', retention: 'standard' };
export const PRIVACY_HEADER = 'x-edge-maas-privacy';

const FIELDS = { pii: PII_MODES, retention: RETENTIONS, region: REGIONS } as const;
type Field = keyof typeof FIELDS;
const isField = (name: string): name is Field => Object.hasOwn(FIELDS, name);

export const regionConflict = (pinned: Region, asked: Region) =>
  new ApiError(403, `this key is pinned to region ${pinned}; ${PRIVACY_HEADER} asked for region ${asked}, and a request may only narrow its key's region, never change it`,
    'invalid_request_error', 'region_conflict', PRIVACY_HEADER);

/**
 * The stricter of two policies, field by field (block > mask > off; none > standard; a region over none). Two
 * different regions have no stricter one: a 403, so that a pinned key is never sent elsewhere.
 */
export function stricter(a: PrivacyPolicy, b: Partial<PrivacyPolicy>): PrivacyPolicy {
  const pii = b.pii && PII_MODES.indexOf(b.pii) > PII_MODES.indexOf(a.pii) ? b.pii : a.pii;
  const retention = b.retention === 'none' ? 'none' : a.retention;
  if (a.region && b.region && a.region !== b.region) throw regionConflict(a.region, b.region);
  const region = a.region ?? b.region;
  return region ? { pii, retention, region } : { pii, retention };
}

const allowed = (field: Field) => FIELDS[field].map((v) => `"${v}"`).join(', ');

/**
 * A header value as the client meant it, safe to echo: runtimes hand headers over as latin-1, so UTF-8 bytes are
 * decoded back first ("region=еu" with a Cyrillic е reads "ðµu" otherwise), then anything outside printable ASCII
 * is written as its code point (\u0435), so that the answer shows exactly what was sent.
 */
export function echoHeaderValue(value: string): string {
  // The whole value, not just the echoed 40 characters: a cut-off card number is still part of one.
  const found = findPii(value);
  if (found.length > 0) return `<a value holding personal data (${[...new Set(found.map((f) => f.kind))].join(', ')}), not echoed>`;
  let text = value.slice(0, 40);
  if (/^[\x00-\xff]*$/.test(text) && /[\x80-\xff]/.test(text)) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(text, (ch) => ch.charCodeAt(0)));
    } catch {
      // not UTF-8: the latin-1 characters are escaped as they are
    }
  }
  return text.replace(/[^\x20-\x7e]/gu, (ch) => `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

const invalidHeader = (message: string) => invalidRequest(`${PRIVACY_HEADER}: ${message}`, PRIVACY_HEADER, 'invalid_privacy_header');

/**
 * The header's settings: "pii=mask", "pii=block; retention=none; region=eu" (commas or semicolons; several headers
 * arrive joined by commas); a 400 names what is wrong. A setting given twice with different values (region=eu and
 * region=us) is a 400 too: neither the first nor the last is what the client surely meant.
 */
export function parsePrivacyHeader(header: string): Partial<PrivacyPolicy> {
  const asked: Partial<PrivacyPolicy> = {};
  for (const part of header.split(/[;,]/)) {
    const item = part.trim();
    if (item === '') continue;
    const [rawName, ...rest] = item.split('=');
    // Echoed as sent: lower-casing latin-1 first would turn UTF-8 bytes into other bytes.
    const sentName = rawName!.trim();
    const sentValue = rest.join('=').trim();
    const name = sentName.toLowerCase();
    const value = sentValue.toLowerCase();
    if (!isField(name)) throw invalidHeader(`unknown setting "${echoHeaderValue(sentName)}"; the settings are pii, retention and region`);
    if (!(FIELDS[name] as readonly string[]).includes(value)) {
      throw invalidHeader(`${name} must be one of ${allowed(name)} (got "${echoHeaderValue(sentValue)}")`);
    }
    const earlier = asked[name];
    if (earlier !== undefined && earlier !== value) throw invalidHeader(`${name} is given twice, as "${earlier}" and as "${value}"; give it once`);
    (asked as Record<Field, string>)[name] = value;
  }
  return asked;
}

/**
 * A policy as the admin API takes it: a JSON object with pii, retention and/or region and nothing else (region null
 * removes the pin); a 400 names the field. `served`: the regions a pin may name (where some upstream, or this server,
 * runs): a pin nothing could serve would refuse every request of the key.
 */
export function parsePolicyBody(body: Record<string, unknown>, previous: PrivacyPolicy, served?: readonly string[]): PrivacyPolicy {
  for (const name of Object.keys(body)) {
    if (!isField(name)) throw invalidRequest(`unknown field "${name.slice(0, 40)}"; a privacy policy has pii, retention and region`, name, 'unknown_field');
  }
  const next = { ...previous };
  for (const field of Object.keys(FIELDS) as Field[]) {
    const value = body[field];
    if (value === undefined) continue;
    if (field === 'region' && value === null) {
      delete next.region;
      continue;
    }
    if (typeof value !== 'string' || !(FIELDS[field] as readonly string[]).includes(value)) {
      throw invalidRequest(`${field} must be one of ${allowed(field)}${field === 'region' ? ', or null for none' : ''}`, field, 'invalid_value');
    }
    if (field === 'region' && served && !served.includes(value)) {
      const where = served.length > 0 ? `the regions served are ${served.join(', ')}` : 'no upstream has a region';
      throw invalidRequest(`region "${value}": no model's upstream runs there (${where}), so a key pinned to it could not be served`, 'region', 'region_not_served');
    }
    (next as Record<Field, string>)[field] = value;
  }
  return next;
}

/** The policy as a header value and in answers: "pii=mask; retention=none", with "; region=eu" when pinned. */
export const describePolicy = (policy: PrivacyPolicy): string =>
  `pii=${policy.pii}; retention=${policy.retention}${policy.region ? `; region=${policy.region}` : ''}`;
