/**
 * Zero retention for the idempotency replay store: a request under retention=none that carries an Idempotency-Key
 * is marked here (by billing's idempotency scope and the key), and billing's store, wrapped by `keepNothingFor`,
 * gives such a key up when billing would keep its answer: a retry runs again, and after the request nothing of it
 * is stored beyond its usage record. Billing's code is not changed; only the store it is handed.
 */
import { OPEN_IDEMPOTENCY_SCOPE } from '../billing/idempotency.js';
import type { BillingStore, IdempotencySlot } from '../billing/types.js';

export class RetentionGuard {
  private readonly unkept = new Set<string>();

  /** This request's answer must not be kept for replays. */
  forbidReplay(keyId: string | null, idempotencyKey: string): void {
    if (this.unkept.size > 100_000) this.unkept.clear(); // marks of requests whose stream never settled
    this.unkept.add(`${keyId ?? OPEN_IDEMPOTENCY_SCOPE}\n${idempotencyKey}`);
  }

  /** The store as billing should use it: an answer marked unkept is released instead of kept. */
  keepNothingFor<S extends Pick<BillingStore, 'completeIdempotencyKey' | 'releaseIdempotencyKey'>>(store: S): S {
    const release = (slot: IdempotencySlot) => {
      this.unkept.delete(`${slot.scope}\n${slot.key}`);
      return store.releaseIdempotencyKey(slot);
    };
    return new Proxy(store, {
      get: (target, name, receiver) => {
        if (name === 'completeIdempotencyKey') {
          return (slot: IdempotencySlot, response: Parameters<S['completeIdempotencyKey']>[1]) =>
            this.unkept.has(`${slot.scope}\n${slot.key}`) ? release(slot) : target.completeIdempotencyKey(slot, response);
        }
        if (name === 'releaseIdempotencyKey') return release;
        const value = Reflect.get(target, name, receiver) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}
