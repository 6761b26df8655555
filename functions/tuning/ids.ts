/**
 * Ids of fine-tuning records, shaped like OpenAI's: a prefix and 24 random base-36 characters (about 124 bits).
 * From crypto.getRandomValues, so they are unguessable: another tenant's id must not be found by trying.
 */
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const RANDOM_CHARS = 24;
/** The largest multiple of 36 below 256: bytes at or above it are drawn again, so every character is equally likely. */
const UNBIASED_BELOW = 252;

export function randomBase36(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length))) {
      if (byte < UNBIASED_BELOW && out.length < length) out += ALPHABET[byte % 36];
    }
  }
  return out;
}

export const newFileId = (): string => `file-${randomBase36(RANDOM_CHARS)}`;
export const newJobId = (): string => `ftjob-${randomBase36(RANDOM_CHARS)}`;
export const newEventId = (): string => `ftevent-${randomBase36(RANDOM_CHARS)}`;

/** Whether `id` has the shape of one of ours with this prefix (a store may refuse others before a lookup). */
export const isId = (prefix: 'file-' | 'ftjob-' | 'ftevent-', id: string): boolean =>
  id.length === prefix.length + RANDOM_CHARS && id.startsWith(prefix) && /^[0-9a-z]+$/.test(id.slice(prefix.length));
