// Loss on DynamoDB's one-write path (metering-loss.test.ts's load and SIGTERM, against dynalite): the Node server with
// DynamoDB billing records classifications in the keys' minute roll-ups with their admission. Roll-ups hold no request
// ids, so exactness is counted per key and status: requests, tokens and cost equal what the clients were answered.
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoBillingStore } from '../../functions/billing/dynamo/dynamo-billing-store.js';
import type { UsageRecord } from '../../functions/billing/types.js';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import { startServer } from '../../functions/node/start-server.js';
import { eventually } from '../helpers/eventually.js';
import { spawnEntry } from '../helpers/spawn-entry.js';
import { ADMIN, adminClient, tempDb } from './helpers.js';
import { startLocalDynamo } from './local-dynamodb.js';
import { priceOf } from './prices.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Seen { key: string; status: number; inputTokens: number }

async function load(url: string, keys: string[], connections: number, total: number, stopped: () => boolean = () => false, seen: Seen[] = [], sent: Map<string, number> = new Map()) {
  let n = 0;
  await Promise.all(Array.from({ length: connections }, async () => {
    while (n < total && !stopped()) {
      const i = n++;
      const key = keys[i % keys.length]!;
      sent.set(key, (sent.get(key) ?? 0) + 1);
      try {
        const res = await fetch(`${url}/v1/classify`, {
          method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ input: i % 2 ? 'a fine , moving film' : 'a dull mess' }),
        });
        const body = (await res.json()) as { usage?: { input_tokens: number } };
        seen.push({ key, status: res.status, inputTokens: body.usage?.input_tokens ?? 0 });
      } catch {
        // not answered (the server went away): it may or may not be metered
      }
    }
  }));
  return seen;
}

/** Requests, input tokens and cost per "key status", from usage records and roll-ups alike. */
function tally(rows: { key: string; status: number; requests: number; inputTokens: number; cost: number }[]) {
  const out: Record<string, { requests: number; inputTokens: number; cost: number }> = {};
  for (const r of rows) {
    const t = (out[`${r.key} ${r.status}`] ??= { requests: 0, inputTokens: 0, cost: 0 });
    t.requests += r.requests;
    t.inputTokens += r.inputTokens;
    t.cost = Math.round((t.cost + r.cost) * 1e6) / 1e6;
  }
  return out;
}
const ofRecords = (records: UsageRecord[]) => records.map((r) => ({ key: r.keyId!, status: r.status, requests: r.requests ?? 1, inputTokens: r.inputTokens, cost: r.costMicroUsd }));

async function dynamoEnv() {
  const dynamo = await startLocalDynamo();
  cleanups.push(() => dynamo.close());
  const db = await tempDb(); // policies and fine-tuning stay in SQLite on the Node server
  cleanups.push(db.remove);
  const env = { BILLING_TABLE: dynamo.tables.billing, USAGE_TABLE: dynamo.tables.usage, DYNAMODB_ENDPOINT: dynamo.endpoint, USAGE_DB: db.path };
  return { dynamo, env, records: (tenant: string) => new DynamoBillingStore(dynamo.client, dynamo.tables).usageRecords({ from: 0, to: Date.now() + 120_000, tenantId: tenant }) };
}

describe('metering on DynamoDB under load', () => {
  it('10,000 requests over 64 connections with three keys: usage matches what the clients saw, exactly', async () => {
    const { env, records } = await dynamoEnv();
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    cleanups.push(() => {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    });
    const server = await startServer({ port: 0, backend: 'node', auth: 'keys', adminToken: ADMIN, generation: false, fineTuning: false });
    cleanups.push(() => server.close());
    const admin = adminClient(server.url);
    const THIRD_RPM = 100;
    const keys = [await admin.key('dyn_load', { rpm: 1_000_000 }), await admin.key('dyn_load', { rpm: 1_000_000 }), await admin.key('dyn_load', { rpm: THIRD_RPM })];
    const started = Date.now();
    const seen = await load(server.url, keys.map((k) => k.key), 64, 10_000);
    const elapsedMinutes = (Date.now() - started) / 60_000;
    expect(seen).toHaveLength(10_000);
    await server.billing!.writer.flush();
    const price = (await readLocalRegistry()).resolve('sentiment')!.price;
    const idOf = new Map(keys.map((k) => [k.key, k.id]));
    const expected = tally(seen.map((s) => ({ key: idOf.get(s.key)!, status: s.status, requests: 1, inputTokens: s.inputTokens, cost: s.status === 200 ? priceOf(price, s.inputTokens, 0) : 0 })));
    // Requests and tokens exactly; cost to 1e-6 micro-USD a request (DynamoDB sums decimals, the clients' side floats).
    const counts = (t: ReturnType<typeof tally>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { requests: v.requests, inputTokens: v.inputTokens }]));
    const metered = await eventually(async () => tally(ofRecords(await records('dyn_load'))), (t) => JSON.stringify(counts(t)) === JSON.stringify(counts(expected)), 10_000, 200)
      .catch(async () => tally(ofRecords(await records('dyn_load'))));
    expect(counts(metered)).toEqual(counts(expected));
    for (const [group, { cost }] of Object.entries(expected)) expect(Math.abs(metered[group]!.cost - cost), group).toBeLessThan(1e-6 * 10_000);
    const third = seen.filter((s) => s.key === keys[2]!.key);
    expect(third.filter((s) => s.status === 200).length).toBeLessThanOrEqual(Math.ceil(THIRD_RPM * (1 + elapsedMinutes)) + 1);
    expect(third.filter((s) => s.status === 429).length).toBeGreaterThan(0);
  }, 600_000); // about 2.5-5 min on 2 shared cores (dynalite in this process)

  it('SIGTERM in the middle of a load: every answered request is metered, none twice', async () => {
    const { env, records } = await dynamoEnv();
    const server = await spawnEntry('functions/node/server.ts', { ORT_BACKEND: 'node', EDGE_MAAS_AUTH: 'keys', ADMIN_TOKEN: ADMIN, EMBEDDED_GENERATION: 'off', FINE_TUNING: 'off', ...env });
    cleanups.push(() => server.kill());
    const admin = adminClient(server.url);
    const keys = [await admin.key('dyn_term', { rpm: 1_000_000 }), await admin.key('dyn_term', { rpm: 1_000_000 })];
    let stop = false;
    const answered: Seen[] = [];
    const sent = new Map<string, number>();
    const loading = load(server.url, keys.map((k) => k.key), 32, 1_000_000, () => stop, answered, sent);
    await eventually(() => answered.length, (n) => n >= 100, 60_000);
    server.kill('SIGTERM');
    const code = await server.exited;
    stop = true;
    const seen = await loading;
    expect(code).toBe(0);
    const metered = tally(ofRecords(await records('dyn_term')));
    for (const k of keys) {
      const ok = seen.filter((s) => s.key === k.key && s.status === 200).length;
      expect(ok).toBeGreaterThan(0);
      // Answered: metered. Sent and never answered (cut by the exit): may be metered. Nothing more, so none twice.
      expect(metered[`${k.id} 200`]?.requests ?? 0).toBeGreaterThanOrEqual(ok);
      expect(metered[`${k.id} 200`]?.requests ?? 0).toBeLessThanOrEqual(ok + (sent.get(k.key)! - seen.filter((s) => s.key === k.key).length));
    }
  }, 180_000);
});
