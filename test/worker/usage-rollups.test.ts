// Usage at the edge is counted in the key's Durable Object (the real KeyRateLimiter in workerd) and written to the
// real D1 as roll-ups by its alarm: no D1 write per request, one row per minute, model, route and status, exact
// under concurrency; a flush D1 refused (or took without the object seeing it) counts once; an object that goes away
// after its flush (eviction: abortAllDurableObjects) loses nothing and a new instance never overwrites its rows.
import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { D1Database } from '../../functions/worker/d1-database.js';
import { DurableKeyLimiter, type DurableObjectNamespaceLike, type KeyRateLimiter, type LimiterState } from '../../functions/worker/key-rate-limiter.js';
import { DurableUsageSink } from '../../functions/worker/durable-usage-sink.js';
import { RequestUsageWriter } from '../../functions/billing/request-usage-writer.js';
import { SqlBillingStore } from '../../functions/billing/sql-billing-store.js';
import { d1Database } from '../../functions/worker/d1-database.js';

declare module 'cloudflare:test' {
  export function runDurableObjectAlarm(stub: unknown): Promise<boolean>;
  export function abortAllDurableObjects(): Promise<void>;
}

const bindings = env as { DB: D1Database; RATE_LIMITER: DurableObjectNamespaceLike };
const ADMIN = { authorization: 'Bearer worker-test-admin' };
const TENANT = 'edge_rollups';
const stubOf = (keyId: string) => bindings.RATE_LIMITER.get(bindings.RATE_LIMITER.idFromName(keyId));

const send = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  exports.default.fetch(new Request(`http://edge.test${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) }));

async function newKey(limits: Record<string, unknown> = {}): Promise<{ key: string; id: string }> {
  const created = await send('POST', '/admin/keys', { tenant: TENANT, rpm: 10_000, ...limits }, ADMIN);
  expect(created.status).toBe(201);
  return (await created.json()) as { key: string; id: string };
}

const classify = (key: string, input: string, extra: Record<string, unknown> = {}) =>
  send('POST', '/v1/classify', { input, ...extra }, { authorization: `Bearer ${key}` });

async function rowsOf(keyId: string) {
  return (await bindings.DB.prepare('SELECT id, request_id, model, status, requests, input_tokens, cost_micro_usd FROM usage WHERE key_id = ? ORDER BY id').bind(keyId)
    .all<{ id: string; request_id: string; model: string | null; status: number; requests: number; input_tokens: number; cost_micro_usd: number }>()).results;
}
const spent = async (keyId: string) =>
  (await bindings.DB.prepare('SELECT SUM(micro_usd) AS s FROM key_month_spend WHERE key_id = ?').bind(keyId).all<{ s: number | null }>()).results[0]?.s ?? 0;
const unwritten = (keyId: string) => runInDurableObject<KeyRateLimiter, number>(stubOf(keyId), (instance) => instance.meter(keyId).unwritten);

/** Until the key's object counted `n` requests (their records arrive after the answers, through waitUntil). */
async function counted(keyId: string, n: number): Promise<void> {
  for (let i = 0; i < 200 && (await unwritten(keyId)) < n; i++) await new Promise((r) => setTimeout(r, 20));
  expect(await unwritten(keyId)).toBe(n);
}

const sum = (rows: { requests: number }[]) => rows.reduce((n, r) => n + r.requests, 0);

beforeAll(async () => {
  expect((await send('POST', '/admin/tenants', { id: TENANT }, ADMIN)).status).toBe(201);
});

describe('usage roll-ups in the key\'s object', () => {
  it('24 concurrent requests: nothing in D1 until the alarm, then one row that sums them, its cost in the month', async () => {
    const { key, id } = await newKey();
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => classify(key, `text number ${i} of a fine film`)));
    expect(answers.map((a) => a.status)).toEqual(Array(24).fill(200));
    await counted(id, 24);
    expect(await rowsOf(id)).toEqual([]); // no D1 write per request
    expect(await runDurableObjectAlarm(stubOf(id))).toBe(true);
    const rows = await rowsOf(id);
    expect(rows).toHaveLength(1); // one minute (unless the requests straddled one), one model, one route, one status
    expect(rows[0]).toMatchObject({ request_id: 'roll-up', status: 200, requests: 24 });
    const tokens = (await Promise.all(answers.map((a) => a.json() as Promise<{ usage: { input_tokens: number } }>))).reduce((n, a) => n + a.usage.input_tokens, 0);
    expect(rows[0]!.input_tokens).toBe(tokens);
    expect(await spent(id)).toBeCloseTo(rows[0]!.cost_micro_usd, 9);
    expect(await unwritten(id)).toBe(0);
  });

  it('keeps statuses apart, and a refused request names the model it asked for', async () => {
    expect((await send('POST', '/admin/tenants', { id: 'edge_rollups_models' }, ADMIN)).status).toBe(201);
    const limited = await send('POST', '/admin/keys', { tenant: 'edge_rollups_models', rpm: 2 }, ADMIN);
    const { key, id } = (await limited.json()) as { key: string; id: string };
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await classify(key, 'a fine film', { model: 'sst2-bert' })).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    await counted(id, 4);
    await runDurableObjectAlarm(stubOf(id));
    const rows = await rowsOf(id);
    expect(rows.map((r) => [r.status, r.requests, r.model]).sort()).toEqual([[200, 2, 'sst2-bert'], [429, 2, 'sst2-bert']]);
    // The tenant's usage by model, read with another of its keys (this one is out of requests).
    const reader = (await (await send('POST', '/admin/keys', { tenant: 'edge_rollups_models' }, ADMIN)).json()) as { key: string };
    const usage = await send('GET', '/v1/usage?group_by=model', undefined, { authorization: `Bearer ${reader.key}` });
    const data = ((await usage.json()) as { data: { model: string; requests: number }[] }).data;
    expect(data.filter((d) => d.model.startsWith('sst2-bert')).map((d) => [d.model, d.requests]).sort()).toEqual([['sst2-bert', 2], [expect.stringMatching(/^sst2-bert@/), 2]]);
  });

  it('/v1/usage counts the caller\'s requests its object has not written yet', async () => {
    const { key, id } = await newKey();
    for (let i = 0; i < 3; i++) expect((await classify(key, `film ${i}`)).status).toBe(200);
    await counted(id, 3);
    const usage = await send('GET', '/v1/usage?group_by=key', undefined, { authorization: `Bearer ${key}` });
    const data = ((await usage.json()) as { data: { key: string; requests: number }[] }).data;
    expect(data.find((d) => d.key === id)?.requests).toBe(3 + 0); // the usage request itself is counted after its answer
    expect(sum(await rowsOf(id))).toBe(3);
  });

  it('a flush D1 took without the object seeing it is parked and written again: counted once', async () => {
    const { key, id } = await newKey();
    for (let i = 0; i < 5; i++) expect((await classify(key, `film ${i}`)).status).toBe(200);
    await counted(id, 5);
    // D1 writes the batch and the answer is lost (the object sees an error): the object parks the batch.
    const lossy: D1Database = {
      prepare: (sql) => bindings.DB.prepare(sql),
      batch: async (statements) => { await bindings.DB.batch(statements); throw new Error('the answer was lost'); },
    };
    const parked = await runInDurableObject<KeyRateLimiter, number>(stubOf(id), async (instance, state) => {
      const meter = instance.meter(id);
      (meter as unknown as { db: D1Database }).db = lossy;
      await instance.alarm(); // the roll-up's write "fails"; the same alarm writes the parked batch again, to the real D1
      (meter as unknown as { db: D1Database }).db = bindings.DB;
      return (await (state as LimiterState).storage.list({ prefix: 'usage:', limit: 100 })).size;
    });
    expect(parked).toBe(0); // written, then deleted
    const rows = await rowsOf(id);
    expect(sum(rows)).toBe(5); // written twice, counted once
    expect(await spent(id)).toBeCloseTo(rows.reduce((s, r) => s + r.cost_micro_usd, 0), 9); // the month too
  });

  it('a record sent twice (a retried call) is counted once', async () => {
    const { id } = await newKey();
    const record = {
      id: 'twice-1', requestId: 'r', keyId: id, tenantId: TENANT, model: 'sst2-bert', modelVersion: '3', path: 'edge', route: 'POST /v1/classify',
      inputTokens: 7, outputTokens: 0, computeMs: 1, status: 200, costMicroUsd: 2.5, idempotentReplay: false, createdAt: Date.now(), heldMicroUsd: 0,
    };
    const call = () => stubOf(id).fetch(new Request('https://limiter.internal/', { method: 'POST', body: JSON.stringify({ op: 'record', key: id, records: [record] }) }));
    expect((await call()).status).toBe(204);
    expect((await call()).status).toBe(204);
    expect(await unwritten(id)).toBe(1);
    await runDurableObjectAlarm(stubOf(id));
    expect(sum(await rowsOf(id))).toBe(1);
  });

  it('the object goes away between requests (after its flush): nothing counted is lost, nothing counted twice', async () => {
    const { key, id } = await newKey();
    for (let i = 0; i < 4; i++) expect((await classify(key, `first ${i}`)).status).toBe(200);
    await counted(id, 4);
    expect(await runDurableObjectAlarm(stubOf(id))).toBe(true);
    await abortAllDurableObjects(); // evicted: its memory (buckets, roll-up, ids seen) is gone, its storage and D1 stay
    for (let i = 0; i < 3; i++) expect((await classify(key, `second ${i}`)).status).toBe(200);
    await counted(id, 3); // a new instance counted the new ones only
    expect(await runDurableObjectAlarm(stubOf(id))).toBe(true);
    const rows = await rowsOf(id);
    expect(sum(rows)).toBe(7);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length); // the new instance's roll-ups have ids of their own
    expect(await spent(id)).toBeCloseTo(rows.reduce((s, r) => s + r.cost_micro_usd, 0), 9);
  });

  it('a budget is held in the object against D1\'s month plus what it counted and has not written', async () => {
    const { key, id } = await newKey({ monthly_budget_micro_usd: 35 }); // three classifications fit (worker-billing.test.ts)
    const first = await Promise.all(Array.from({ length: 2 }, () => classify(key, 'a fine film')));
    expect(first.map((r) => r.status)).toEqual([200, 200]);
    await counted(id, 2);
    await runDurableObjectAlarm(stubOf(id)); // two in D1's month now
    await abortAllDurableObjects(); // a new instance reads the month from D1
    const next = await Promise.all(Array.from({ length: 3 }, () => classify(key, 'a fine film')));
    expect(next.map((r) => r.status).sort()).toEqual([200, 402, 402]);
  });

  it('a record its object cannot take (three calls failed) is written to D1 by the request itself, once', async () => {
    const { id } = await newKey();
    const down: DurableObjectNamespaceLike = {
      idFromName: (name) => bindings.RATE_LIMITER.idFromName(name),
      get: () => ({ fetch: async () => { throw new Error('the object is unreachable'); } }),
    };
    const errors: unknown[] = [];
    const direct = new RequestUsageWriter(new SqlBillingStore(d1Database(bindings.DB)), { attempts: 2, backoffMs: 1 });
    const sink = new DurableUsageSink(new DurableKeyLimiter(down), direct, { attempts: 3, backoffMs: 1, onError: (e) => errors.push(e) });
    const record = {
      id: 'unreachable-1', requestId: 'r-unreachable', keyId: id, tenantId: TENANT, model: 'sst2-bert', modelVersion: '3', path: 'edge' as const, route: 'POST /v1/classify',
      inputTokens: 7, outputTokens: 0, computeMs: 1, status: 200, costMicroUsd: 2.5, idempotentReplay: false, createdAt: Date.now(), heldMicroUsd: 0,
    };
    await sink.record(record, null);
    await sink.record(record, null); // again: D1's insert is idempotent per id
    expect(errors).toHaveLength(2);
    expect(await rowsOf(id)).toMatchObject([{ id: 'unreachable-1', request_id: 'r-unreachable', requests: 1 }]);
    expect(await spent(id)).toBe(2.5);
  });
});
