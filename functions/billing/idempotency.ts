/**
 * Idempotency-Key, as Stripe defines it: the first request with a key runs and its answer is kept for 24 hours; a
 * retry of the same request (same method, path and body) gets that answer again, marked `Idempotent-Replayed: true`
 * and not billed; the same key with another request is refused (422), and one while the first still runs waits
 * (409). A first request that is refused (4xx), fails (5xx), is cut short or whose answer is too large to keep
 * gives the key up, so that a retry runs (and is billed) again. Only answers are kept, never request bodies: a hash stands for those.
 * A replay answers the headers that say what answered (the model version, the PII counts) as the first answer did.
 */
import { BillingError } from './billing-errors.js';
import type { IdempotencyClaim, BillingStore, IdempotencyRequest, IdempotencySlot, StoredResponse } from './types.js';
import { ABANDONED_AFTER_MS } from './month.js';

export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Larger answers are not kept (a DynamoDB item holds 400 KB, base64 included). */
export const IDEMPOTENT_BODY_LIMIT = 256 * 1024;
export const OPEN_IDEMPOTENCY_SCOPE = '(open)';

/**
 * The answer's own headers a replay repeats, as the first answer said them: the version that answered (traffic-router.ts's
 * MODEL_VERSION_HEADER) and what the text sent out held, counts per kind only (privacy's PII_COUNT_HEADER). Named here:
 * billing imports neither.
 */
export const KEPT_HEADERS = ['x-edge-maas-model-version', 'x-edge-maas-pii'] as const;

/**
 * The kept answer's content type with its kept headers after it, one `name: value` a line: every store already keeps
 * the content type's text (SQL's content_type, DynamoDB's contentType), so the headers need no column of their own.
 * A header value holds no line break (Headers refuses them), so the lines cannot be confused.
 */
export function keptContentType(contentType: string, headers: Headers): string {
  const lines = KEPT_HEADERS.flatMap((name) => {
    const value = headers.get(name);
    return value === null ? [] : [`${name}: ${value}`];
  });
  return [contentType, ...lines].join('\n');
}

/** What keptContentType wrote, read back; an answer kept before the headers were (a content type alone) has none. */
export function replayedHeaders(kept: string): { contentType: string; headers: Record<string, string> } {
  const [contentType = 'application/json', ...lines] = kept.split('\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(': ');
    const name = line.slice(0, colon);
    if (colon > 0 && (KEPT_HEADERS as readonly string[]).includes(name)) headers[name] = line.slice(colon + 2);
  }
  return { contentType, headers };
}

/** `variant`: what else makes two requests different (the privacy policy in force); none keeps the hash as it was. */
export async function requestHash(method: string, path: string, body: Uint8Array, variant = ''): Promise<string> {
  const head = new TextEncoder().encode(`${method} ${path}\n${variant === '' ? '' : `${variant}\n`}`);
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** An Idempotency-Key as the client sent it, refused unless it is 1 to 255 characters. */
export function checkIdempotencyKey(key: string): void {
  if (key.length === 0 || key.length > 255) throw new BillingError('idempotency_key_invalid', 'Idempotency-Key must be 1 to 255 characters', { param: 'Idempotency-Key' });
}

export function claim(store: BillingStore, request: Omit<IdempotencyRequest, 'since' | 'staleBefore'>): Promise<IdempotencyClaim> {
  return store.claimIdempotencyKey({ ...request, since: request.at - IDEMPOTENCY_WINDOW_MS, staleBefore: request.at - ABANDONED_AFTER_MS });
}

/** The refusal of a request whose key another request holds: a different request, or the same one still running. */
export function heldKeyError(state: 'mismatch' | 'in_progress'): BillingError {
  return state === 'mismatch'
    ? new BillingError('idempotency_conflict', 'this Idempotency-Key was used with a different request in the last 24 hours; use a new key for a new request')
    : new BillingError('idempotency_in_flight', 'a request with this Idempotency-Key is still running; retry when it has ended', { retryAfterSeconds: 1 });
}

/**
 * Keeps a finished answer, or gives the key up when the answer is not one to repeat: as Stripe, only a request that
 * ran is kept; a refusal (400, 402, 404, 429 …), a failure or a cut-short answer lets a retry with the key run.
 */
export async function settleClaim(store: BillingStore, slot: IdempotencySlot, response: StoredResponse | null): Promise<void> {
  const repeatable = response !== null && response.status < 400 && response.body.length <= IDEMPOTENT_BODY_LIMIT;
  if (repeatable) await store.completeIdempotencyKey(slot, response);
  else await store.releaseIdempotencyKey(slot);
}

const STREAM_ERROR = /(^|\n)data: \{"error":/;

/**
 * The same stream, its bytes collected (up to the limit) for `done`, which gets null when the stream was cut
 * short, failed, ended with an error event or outgrew the limit.
 */
export function collectStream(body: ReadableStream<Uint8Array>, done: (bytes: Uint8Array | null) => Promise<void>): ReadableStream<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const finish = (complete: boolean) => {
    if (!complete || size > IDEMPOTENT_BODY_LIMIT) return done(null);
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    return done(STREAM_ERROR.test(new TextDecoder().decode(bytes)) ? null : bytes);
  };
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: ended, value } = await reader.read();
        if (ended) {
          await finish(true);
          controller.close();
          return;
        }
        size += value.length;
        if (size <= IDEMPOTENT_BODY_LIMIT) chunks.push(value);
        controller.enqueue(value);
      } catch (error) {
        await finish(false);
        controller.error(error);
      }
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => {});
      await finish(false);
    },
  });
}
