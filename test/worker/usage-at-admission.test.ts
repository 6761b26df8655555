// A classification at the edge is recorded with its admission (issue 16): one call to its key's object (the real
// KeyRateLimiter in workerd), `take` carrying the record it will have if served as admitted (and a 400's and a
// 429's, known then too). One that ends
// otherwise (refused after admission, its model failed, the client gone) cancels that record in a second call:
// netted in the batch that still holds it, or a row of its own once that batch is in D1, after an eviction too;
// a retried correction counts once. Sums, the key's month and budgets stay exact.
import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { D1Database } from '../../functions/worker/d1-database.js';
import { DurableKeyLimiter, type DurableObjectNamespaceLike, type KeyRateLimiter } from '../../functions/worker/key-rate-limiter.js';
import { DurableUsageSink } from '../../functions/worker/durable-usage-sink.js';
import { RequestUsageWriter } from '../../functions/billing/request-usage-writer.js';
import { SqlBillingStore } from '../../functions/billing/sql-billing-store.js';
import { d1Database } from '../../functions/worker/d1-database.js';
import type { UsageRecord } from '../../functions/billing/types.js';

declare module 'cloudflare:test' {
  export function runDurableObjectAlarm(stub: unknown): Promise<boolean>;
  export function abortAllDurableObjects(): Promise<void>;
}

const bindings = env as { DB: D1Database; RATE_LIMITER: DurableObjectNamespaceLike };
const ADMIN = { authorization: 'Bearer worker-test-admin' };
const TENANT = 'edge_at_admission';
const stubOf = (keyId: string) => bindings.RATE_LIMITER.get(bindings.RATE_LIMITER.idFromName(keyId));

const send = (method: string, path: string, body: unknown, headers: Record<string, string> = {}, colo?: string) =>
  exports.default.fetch(new Request(`http://edge.test${path}`, {
    method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body),
    ...(colo ? { cf: { colo } } : {}),
  } as RequestInit));

async function newKey(limits: Record<string, unknown> = {}): Promise<{ key: string; id: string }> {
  const created = await send('POST', '/admin/keys', { tenant: TENANT, rpm: 10_000, ...limits }, ADMIN);
  expect(created.status).toBe(201);
  return (await created.json()) as { key: string; id: string };
}

const classify = (key: string, body: unknown, colo?: string) => send('POST', '/v1/classify', body, { authorization: `Bearer ${key}` }, colo);

/** The operations the key's object is asked for from now on, in order (its instance's fetch, wrapped). */
async function callsTo(keyId: string): Promise<string[]> {
  const ops: string[] = [];
  await runInDurableObject<KeyRateLimiter, void>(stubOf(keyId), (instance) => {
    const real = instance.fetch.bind(instance);
    instance.fetch = async (request: Request) => {
      ops.push(((await request.clone().json()) as { op: string }).op);
      return real(request);
    };
  });
  return ops;
}

/** Until the key's object was called `n` times (a correction arrives after the answer, through waitUntil). */
async function calls(ops: string[], n: number): Promise<string[]> {
  for (let i = 0; i < 100 && ops.length < n; i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 50)); // and no more
  return [...ops];
}

interface Row { status: number; requests: number; input_tokens: number; cost_micro_usd: number }
async function rowsOf(keyId: string): Promise<Row[]> {
  return (await bindings.DB.prepare('SELECT status, requests, input_tokens, cost_micro_usd FROM usage WHERE key_id = ? ORDER BY id').bind(keyId).all<Row>()).results;
}
/** The key's rows summed per status. */
async function byStatus(keyId: string): Promise<Record<number, { requests: number; tokens: number; cost: number }>> {
  const out: Record<number, { requests: number; tokens: number; cost: number }> = {};
  for (const r of await rowsOf(keyId)) {
    const s = (out[r.status] ??= { requests: 0, tokens: 0, cost: 0 });
    s.requests += r.requests;
    s.tokens += r.input_tokens;
    s.cost += r.cost_micro_usd;
  }
  return out;
}
const spent = async (keyId: string) =>
  (await bindings.DB.prepare('SELECT SUM(micro_usd) AS s FROM key_month_spend WHERE key_id = ?').bind(keyId).all<{ s: number | null }>()).results[0]?.s ?? 0;

beforeAll(async () => {
  expect((await send('POST', '/admin/tenants', { id: TENANT }, ADMIN)).status).toBe(201);
});

describe('a classification recorded with its admission', () => {
  it('costs one call to its key\'s object (take), and is in the roll-up as served, tokens and cost exact', async () => {
    const { key, id } = await newKey();
    const ops = await callsTo(id);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await classify(key, { input: `a fine film, number ${i}` }));
    expect(answers.map((a) => a.status)).toEqual(Array(5).fill(200));
    expect(await calls(ops, 5)).toEqual(Array(5).fill('take'));
    const tokens = (await Promise.all(answers.map((a) => a.json() as Promise<{ usage: { input_tokens: number } }>))).reduce((n, a) => n + a.usage.input_tokens, 0);
    expect(await runDurableObjectAlarm(stubOf(id))).toBe(true);
    const sums = await byStatus(id);
    expect(Object.keys(sums)).toEqual(['200']);
    expect(sums[200]).toMatchObject({ requests: 5, tokens });
    expect(sums[200]!.cost).toBeGreaterThan(0);
    expect(await spent(id)).toBeCloseTo(sums[200]!.cost, 9);
  });

  it('a request refused before admission (400) and one the rate limit refused (429): their records ride on the take too', async () => {
    const { key, id } = await newKey({ rpm: 2 });
    const ops = await callsTo(id);
    expect((await classify(key, { input: 42 })).status).toBe(400);
    expect((await classify(key, { input: 'a fine film', model: 'sst2-bert' })).status).toBe(200);
    expect((await classify(key, { input: 'a fine film', model: 'sst2-bert' })).status).toBe(429);
    expect((await classify(key, { input: 42 })).status).toBe(400); // out of requests too: counted with its refused take
    expect(await calls(ops, 4)).toEqual(['take', 'take', 'take', 'take']);
    await runDurableObjectAlarm(stubOf(id));
    const sums = await byStatus(id);
    expect(sums[400]).toEqual({ requests: 2, tokens: 0, cost: 0 });
    expect(sums[429]).toEqual({ requests: 1, tokens: 0, cost: 0 });
    expect(sums[200]!.requests).toBe(1);
    const models = (await bindings.DB.prepare('SELECT model FROM usage WHERE key_id = ? AND status = 429').bind(id).all<{ model: string }>()).results;
    expect(models).toEqual([{ model: 'sst2-bert' }]); // the model it asked for
  });

  it('refused after admission (a pinned key outside its region): the record is cancelled in the same batch, no 200 row is written', async () => {
    const { key, id } = await newKey();
    expect((await send('PUT', `/admin/keys/${id}/privacy`, { region: 'eu' }, ADMIN)).status).toBe(200);
    expect((await classify(key, { input: 'a fine film' }, 'FRA')).status).toBe(200);
    const ops = await callsTo(id);
    const refused = await classify(key, { input: 'a fine film' }, 'DFW');
    expect(refused.status).toBe(403);
    expect(await calls(ops, 2)).toEqual(['take', 'record']);
    await runDurableObjectAlarm(stubOf(id));
    const rows = await rowsOf(id);
    expect(rows.every((r) => r.requests > 0)).toBe(true); // netted: no row of its own for the cancellation
    const sums = await byStatus(id);
    expect(sums[200]!.requests).toBe(1); // the FRA one only
    expect(sums[403]).toEqual({ requests: 1, tokens: 0, cost: 0 });
    expect(await spent(id)).toBeCloseTo(sums[200]!.cost, 9);
  });
});

describe('a correction after the record was written', () => {
  const record = (keyId: string, over: Partial<UsageRecord> = {}): UsageRecord => ({
    id: `adm-${keyId}`, requestId: 'r-adm', keyId, tenantId: TENANT, model: 'sst2-glove-bilstm', modelVersion: '1', path: 'edge', route: 'POST /v1/classify',
    inputTokens: 9, outputTokens: 0, computeMs: 0, status: 200, costMicroUsd: 10.09, idempotentReplay: false, createdAt: Date.now(), heldMicroUsd: 0, ...over,
  });
  const limits = { rpm: 100, tpm: 10_000 };
  const sinkOf = (limiter: DurableKeyLimiter) =>
    new DurableUsageSink(limiter, new RequestUsageWriter(new SqlBillingStore(d1Database(bindings.DB)), { attempts: 1, backoffMs: 1 }), { attempts: 2, backoffMs: 1 });

  for (const evicted of [false, true]) {
    it(evicted ? 'reaches a new instance (the object went away after its flush): its cancellation is a row of its own, sums exact'
      : 'in the same instance, retried: a row of its own that the sums net out, counted once', async () => {
      const { id } = await newKey();
      const limiter = new DurableKeyLimiter(bindings.RATE_LIMITER);
      const served = record(id);
      const taken = await limiter.take(id, limits, 9, { id: served.id, keyId: id, microUsd: 10.09, budgetMicroUsd: 1_000, at: served.createdAt }, served);
      expect(taken).toMatchObject({ allowed: true, held: true, recorded: true });
      expect(await runDurableObjectAlarm(stubOf(id))).toBe(true);
      expect(await byStatus(id)).toEqual({ 200: { requests: 1, tokens: 9, cost: 10.09 } });
      if (evicted) await abortAllDurableObjects();
      // The client left while the model ran: 499, nothing billed, its tokens back.
      const gone = record(id, { status: 499, inputTokens: 0, costMicroUsd: 0, computeMs: 1.5 });
      const settlement = { key: id, limits, used: 0, reserved: 9, takenAt: served.createdAt };
      const sink = sinkOf(limiter);
      await sink.record(gone, settlement, served);
      await sink.record(gone, settlement, served); // a retried call
      await runDurableObjectAlarm(stubOf(id));
      const sums = await byStatus(id);
      expect(sums[200]).toMatchObject({ requests: 0, tokens: 0 });
      expect(sums[200]!.cost).toBeCloseTo(0, 9);
      expect(sums[499]).toEqual({ requests: 1, tokens: 0, cost: 0 });
      expect(await spent(id)).toBeCloseTo(0, 9);
    });
  }

  it('a correction the object cannot take goes to D1 with the cancellation beside it, once', async () => {
    const { id } = await newKey();
    const limiter = new DurableKeyLimiter(bindings.RATE_LIMITER);
    const served = record(id);
    await limiter.take(id, limits, 9, undefined, served);
    await runDurableObjectAlarm(stubOf(id));
    const down = new DurableKeyLimiter({ idFromName: (name) => bindings.RATE_LIMITER.idFromName(name), get: () => ({ fetch: async () => { throw new Error('unreachable'); } }) });
    const failed = record(id, { status: 500, inputTokens: 0, costMicroUsd: 0 });
    await sinkOf(down).record(failed, null, served);
    await sinkOf(down).record(failed, null, served); // again: D1 takes each id once
    const sums = await byStatus(id);
    expect(sums[200]!.requests).toBe(0);
    expect(sums[200]!.cost).toBeCloseTo(0, 9);
    expect(sums[500]).toEqual({ requests: 1, tokens: 0, cost: 0 });
    expect(await spent(id)).toBeCloseTo(0, 9);
  });

  it('a record at admission counts against the budget like a hold, and one that does not fit is not counted', async () => {
    const { id } = await newKey();
    const limiter = new DurableKeyLimiter(bindings.RATE_LIMITER);
    const hold = (n: number) => ({ id: `b-${n}`, keyId: id, microUsd: 10.09, budgetMicroUsd: 25, at: Date.now() });
    const answers = await Promise.all([1, 2, 3].map((n) => limiter.take(id, limits, 9, hold(n), record(id, { id: `b-${n}` }))));
    expect(answers.map((a) => a.recorded).sort()).toEqual([false, true, true]);
    expect(answers.find((a) => !a.recorded)).toMatchObject({ allowed: true, held: false });
    await runDurableObjectAlarm(stubOf(id));
    expect((await byStatus(id))[200]!.requests).toBe(2);
  });
});
