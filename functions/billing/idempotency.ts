/**
 * Idempotency-Key, as Stripe defines it: the first request with a key runs and its answer is kept for 24 hours; a
 * retry of the same request (same method, path and body) gets that answer again, marked `Idempotent-Replayed: true`
 * and not billed; the same key with another request is refused (422), and one while the first still runs waits
 * (409). A first request that is refused (4xx), fails (5xx), is cut short or whose answer is too large to keep
 * gives the key up, so that a retry runs (and is billed) again. Only answers are kept, never request bodies: a hash stands for those.
 */
import type { IdempotencyClaim, BillingStore, StoredResponse } from './types.js';
import { ABANDONED_AFTER_MS } from './month.js';

export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Larger answers are not kept (a DynamoDB item holds 400 KB, base64 included). */
export const IDEMPOTENT_BODY_LIMIT = 256 * 1024;
export const OPEN_IDEMPOTENCY_SCOPE = '(open)';

export async function requestHash(method: string, path: string, body: Uint8Array): Promise<string> {
  const head = new TextEncoder().encode(`${method} ${path}\n`);
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export interface IdempotencySlot {
  scope: string;
  key: string;
  usageId: string;
}

export function claim(store: BillingStore, slot: IdempotencySlot, hash: string, at: number): Promise<IdempotencyClaim> {
  return store.claimIdempotencyKey({ ...slot, requestHash: hash, at, since: at - IDEMPOTENCY_WINDOW_MS, staleBefore: at - ABANDONED_AFTER_MS });
}

/**
 * Keeps a finished answer, or gives the key up when the answer is not one to repeat: as Stripe, only a request that
 * ran is kept; a refusal (400, 402, 404, 429 …), a failure or a cut-short answer lets a retry with the key run.
 */
export async function settleClaim(store: BillingStore, slot: IdempotencySlot, response: StoredResponse | null): Promise<void> {
  const repeatable = response !== null && response.status < 400 && response.body.length <= IDEMPOTENT_BODY_LIMIT;
  if (repeatable) await store.completeIdempotencyKey(slot.scope, slot.key, slot.usageId, response);
  else await store.releaseIdempotencyKey(slot.scope, slot.key, slot.usageId);
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
