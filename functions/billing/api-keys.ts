/**
 * API keys: `em_` + 40 random base62 characters, shown once. Only the SHA-256 of a key is stored, with its first
 * 12 characters as a lookup prefix; a presented key is found by prefix and compared by hash in constant time.
 */
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const KEY_PREFIX_LENGTH = 12;
const KEY_SHAPE = /^em_[0-9A-Za-z]{40}$/;

export function newApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(40));
  // 62 does not divide 256; the bias this leaves (under 1 %) costs no meaningful entropy over 40 characters.
  return `em_${Array.from(bytes, (b) => ALPHABET[b % 62]).join('')}`;
}

export const keyPrefix = (key: string) => key.slice(0, KEY_PREFIX_LENGTH);
export const looksLikeKey = (key: string) => KEY_SHAPE.test(key);

export async function hashKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function sameHash(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** The key a request presents: `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function presentedKey(headers: { get(name: string): string | null | undefined }): string | null {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.get('authorization') ?? '');
  return bearer?.[1] ?? headers.get('x-api-key')?.trim() ?? null;
}
