// A usage record D1 refused is not lost at the edge: the request's writer parks it in its key's KeyRateLimiter
// object (the real one, in workerd, with its durable storage), whose alarm writes it to the real D1; a flush that
// fails keeps the records and sets the alarm again; records land exactly once, even parked twice or flushed again.
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { RequestUsageWriter } from '../../functions/billing/request-usage-writer.js';
import type { BillingStore, UsageRecord } from '../../functions/billing/types.js';
import type { D1Database } from '../../functions/worker/d1-database.js';
import { DurableKeyLimiter, type DurableObjectNamespaceLike, type KeyRateLimiter, type LimiterState } from '../../functions/worker/key-rate-limiter.js';

declare module 'cloudflare:test' {
  export function runDurableObjectAlarm(stub: unknown): Promise<boolean>;
}

const bindings = env as { DB: D1Database; RATE_LIMITER: DurableObjectNamespaceLike };
const limiter = new DurableKeyLimiter(bindings.RATE_LIMITER);
const stubOf = (key: string) => bindings.RATE_LIMITER.get(bindings.RATE_LIMITER.idFromName(key));

const record = (id: string, keyId: string | null): UsageRecord => ({
  id, requestId: `req-${id}`, keyId, tenantId: keyId ? 'parked_tenant' : null, model: 'sst2-bert', modelVersion: '1', path: 'edge',
  route: 'POST /v1/classify', inputTokens: 7, outputTokens: 0, computeMs: 1.5, status: 200, costMicroUsd: 2.5, idempotentReplay: false,
  createdAt: Date.UTC(2026, 11, 3, 12), heldMicroUsd: 0,
});

/** A store whose D1 is down: every write throws. */
const downStore = { insertUsage: async () => { throw new Error('D1 is down'); } } as unknown as BillingStore;

const rows = async (id: string) => (await bindings.DB.prepare('SELECT id, cost_micro_usd FROM usage WHERE id = ?').bind(id).all<{ id: string }>()).results;
const spent = async (keyId: string) => (await bindings.DB.prepare('SELECT micro_usd FROM key_month_spend WHERE key_id = ?').bind(keyId).all<{ micro_usd: number }>()).results[0]?.micro_usd ?? 0;
const parkedIn = (key: string) => runInDurableObject<KeyRateLimiter, number>(stubOf(key), async (_, state) =>
  (await (state as LimiterState).storage.list({ prefix: 'usage:', limit: 1000 })).size);

describe('usage records D1 refused, parked in the key\'s object', () => {
  it('are written by its alarm once D1 is back, exactly once (parked twice, flushed twice)', async () => {
    const errors: unknown[] = [];
    const writer = new RequestUsageWriter(downStore, { attempts: 2, backoffMs: 1, onError: (e) => errors.push(e), park: (r) => limiter.park(r) });
    await writer.record(record('parked-1', 'key_parked'));
    await writer.record(record('parked-1', 'key_parked')); // the same record again (a retried request path)
    expect(errors).toHaveLength(2); // each reported, and parked
    expect(await rows('parked-1')).toEqual([]);
    expect(await parkedIn('key_parked')).toBe(1);

    expect(await runDurableObjectAlarm(stubOf('key_parked'))).toBe(true);
    expect(await rows('parked-1')).toHaveLength(1);
    expect(await spent('key_parked')).toBe(2.5);
    expect(await parkedIn('key_parked')).toBe(0);

    // Parked again after it landed (a request that did not see D1's answer): the flush writes nothing twice.
    await limiter.park(record('parked-1', 'key_parked'));
    expect(await runDurableObjectAlarm(stubOf('key_parked'))).toBe(true);
    expect(await rows('parked-1')).toHaveLength(1);
    expect(await spent('key_parked')).toBe(2.5);
    expect(await runDurableObjectAlarm(stubOf('key_parked'))).toBe(false); // nothing left, no alarm set
  });

  it('survive a flush that fails: kept, the alarm set again, then written once', async () => {
    await limiter.park(record('parked-2', 'key_parked_retry'));
    await limiter.park(record('parked-3', 'key_parked_retry'));
    // One flush with D1 failing (the object's D1 wrapped so that its batch throws), by the class over the same storage.
    const failing: D1Database = { prepare: (sql) => bindings.DB.prepare(sql), batch: async () => { throw new Error('D1 is down'); } };
    const before = await runInDurableObject<KeyRateLimiter, number | null>(stubOf('key_parked_retry'), async (instance, state) => {
      const before = await (state as LimiterState).storage.getAlarm();
      const Fresh = instance.constructor as new (s: unknown, e: unknown) => KeyRateLimiter;
      await new Fresh(state, { DB: failing }).alarm();
      return before;
    });
    expect(await rows('parked-2')).toEqual([]);
    expect(await parkedIn('key_parked_retry')).toBe(2);
    const after = await runInDurableObject<KeyRateLimiter, number | null>(stubOf('key_parked_retry'), (_, state) => (state as LimiterState).storage.getAlarm());
    expect(after).not.toBeNull(); // retried later, with backoff, not dropped
    expect(after!).toBeGreaterThan(before!);

    // D1 is back: the next alarm writes both, once.
    expect(await runDurableObjectAlarm(stubOf('key_parked_retry'))).toBe(true);
    expect((await rows('parked-2')).length + (await rows('parked-3')).length).toBe(2);
    expect(await spent('key_parked_retry')).toBe(5);
    expect(await parkedIn('key_parked_retry')).toBe(0);
  });

  it('outlive the object instance that parked them (its storage, not its memory, holds them)', async () => {
    await limiter.park(record('parked-4', 'key_parked_evicted'));
    // A fresh instance of the class over the same storage (what workerd makes after an eviction) flushes them.
    await runInDurableObject<KeyRateLimiter, void>(stubOf('key_parked_evicted'), async (instance, state) => {
      const Fresh = instance.constructor as new (s: unknown, e: unknown) => KeyRateLimiter;
      await new Fresh(state, { DB: bindings.DB }).alarm();
    });
    expect(await rows('parked-4')).toHaveLength(1);
    expect(await parkedIn('key_parked_evicted')).toBe(0);
  });

  it('without a key (open mode) go to the (open) object', async () => {
    const writer = new RequestUsageWriter(downStore, { attempts: 1, backoffMs: 1, park: (r) => limiter.park(r) });
    await writer.record(record('parked-5', null));
    expect(await runDurableObjectAlarm(stubOf('(open)'))).toBe(true);
    expect(await rows('parked-5')).toHaveLength(1);
  });
});
