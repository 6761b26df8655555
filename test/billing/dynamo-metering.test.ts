// DynamoDB metering in one write a classification (functions/billing/dynamo/dynamo-metering.ts) on dynalite with the
// official SDK: the take and the record in the key's minute item, exact under concurrency on two instances, once
// when DynamoDB applied a write whose answer was lost (the SDK sends it again), taken back when the request ends
// otherwise, and counted into a budget given to the key later.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../functions/billing/dynamo/dynamo-client.js';
import { DynamoBillingStore } from '../../functions/billing/dynamo/dynamo-billing-store.js';
import { DynamoMetering } from '../../functions/billing/dynamo/dynamo-metering.js';
import { monthStart } from '../../functions/billing/month.js';
import { PendingWork } from '../../functions/billing/pending-work.js';
import type { ApiKeyRecord, UsageRecord } from '../../functions/billing/types.js';
import { UsageWriter } from '../../functions/billing/usage-writer.js';
import { startLocalDynamo, type LocalDynamo } from './local-dynamodb.js';

const T0 = Date.UTC(2026, 11, 4, 10, 0, 10); // 10 s into a minute
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => dynamo?.close());

function instance(endpoint = dynamo.endpoint, now = () => T0) {
  const client = documentClient(endpoint);
  const store = new DynamoBillingStore(client, dynamo.tables);
  const pending = new PendingWork();
  const writer = new UsageWriter(store, { intervalMs: 10, maxBatch: 100, waitUntil: pending.add });
  const metering = new DynamoMetering(client, { table: dynamo.tables.usage, holdBudget: (h) => store.holdBudget(h), writer, waitUntil: pending.add, now });
  return { metering, store, settle: async () => { await writer.flush(); await pending.settled(); }, close: () => client.destroy() };
}

let n = 0;
async function newKey(tenantId: string, budget: number | null = null): Promise<ApiKeyRecord> {
  const store = new DynamoBillingStore(dynamo.client, dynamo.tables);
  const id = `key_metering_${n++}`;
  const key: ApiKeyRecord = {
    id, tenantId, name: null, prefix: `pre${id}`, keyHash: 'h', status: 'active', rpm: 1000, tpm: 100_000, monthlyBudgetMicroUsd: budget, createdAt: T0, updatedAt: T0,
  };
  await store.createKey(key);
  return key;
}

const served = (key: ApiKeyRecord, i: number, over: Partial<UsageRecord> = {}): UsageRecord => ({
  id: `usage-${key.id}-${i}`, requestId: `req-${i}`, keyId: key.id, tenantId: key.tenantId, model: 'sst2-glove-bilstm', modelVersion: '1', path: 'edge',
  route: 'POST /v1/classify', inputTokens: 8, outputTokens: 0, computeMs: 0, status: 200, costMicroUsd: 10.08, idempotentReplay: false, createdAt: T0, heldMicroUsd: 0, ...over,
});

const usageOf = (tenantId: string) => new DynamoBillingStore(dynamo.client, dynamo.tables).usageRecords({ from: 0, to: T0 + 3_600_000, tenantId });

describe('DynamoDB metering: take and record in one write', () => {
  it('40 concurrent classifications on two instances under rpm 25: exactly 25 served, and exactly those recorded', async () => {
    const key = await newKey('metering_conc');
    const [a, b] = [instance(), instance()];
    const decisions = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).metering.take(key.id, { rpm: 25, tpm: 100_000 }, 8, undefined, served(key, i))));
    await Promise.all([a.settle(), b.settle()]);
    expect(decisions.filter((d) => d.allowed)).toHaveLength(25);
    expect(decisions.filter((d) => d.recorded)).toHaveLength(25);
    const records = await usageOf('metering_conc');
    // One roll-up: the refused requests' records were taken back (they are recorded at their end, as 429s).
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ keyId: key.id, requests: 25, inputTokens: 25 * 8, status: 200, requestId: 'roll-up' });
    expect(records[0]!.costMicroUsd).toBeCloseTo(25 * 10.08, 6);
    a.close();
    b.close();
  });

  it('a write DynamoDB applied but whose answer was lost, sent again by the SDK, counts once', async () => {
    const lossy = await answerLostOnce(dynamo.endpoint, 'UpdateItem');
    const key = await newKey('metering_lost');
    const one = instance(lossy.endpoint);
    const decision = await one.metering.take(key.id, { rpm: 10, tpm: 100_000 }, 8, undefined, served(key, 0));
    await one.settle();
    expect(lossy.lost).toBe(1); // the first answer was replaced by a 500 after dynalite applied the write
    expect(decision).toMatchObject({ allowed: true, recorded: true, remainingRequests: 9 });
    expect(await usageOf('metering_lost')).toEqual([expect.objectContaining({ requests: 1, inputTokens: 8 })]);
    one.close();
    await lossy.close();
  });

  it('a classification that ends otherwise (a 500) takes its record back and is recorded as it ended', async () => {
    const key = await newKey('metering_cancel');
    const one = instance();
    const early = served(key, 0);
    expect((await one.metering.take(key.id, { rpm: 10, tpm: 100_000 }, 8, undefined, early)).recorded).toBe(true);
    one.metering.record({ ...early, status: 500, costMicroUsd: 0, inputTokens: 8 }, null, early);
    await one.settle();
    const records = await usageOf('metering_cancel');
    expect(records).toEqual([expect.objectContaining({ id: early.id, status: 500, costMicroUsd: 0, requestId: 'req-0' })]);
    expect(await one.store.spentSince(key.id, monthStart(T0))).toBe(0);
    one.close();
  });

  it('a refused classification is taken back and its 429 counted in the same write, so its end writes nothing', async () => {
    const key = await newKey('metering_429');
    const one = instance();
    const limits = { rpm: 1, tpm: 100_000 };
    expect((await one.metering.take(key.id, limits, 8, undefined, served(key, 0))).recorded).toBe(true);
    const refusal = served(key, 1, { status: 429, costMicroUsd: 0, inputTokens: 0, modelVersion: null, path: null });
    const second = await one.metering.take(key.id, limits, 8, undefined, served(key, 1), refusal);
    expect(second).toMatchObject({ allowed: false, recorded: true });
    await one.settle();
    const byStatus = Object.fromEntries((await usageOf('metering_429')).map((r) => [r.status, r.requests]));
    expect(byStatus).toEqual({ 200: 1, 429: 1 });
    // The refused request no longer counts against the key: the next take sees one request before it, not two.
    const item = (await one.metering.take(key.id, { rpm: 10, tpm: 100_000 }, 0)).remainingRequests;
    expect(item).toBe(10 - 2); // the first request and this one
    one.close();
  });

  it('a key with a budget is not recorded at admission: its hold and its record go through the key\'s month', async () => {
    const key = await newKey('metering_budget', 15);
    const one = instance();
    const hold = (i: number) => ({ id: `usage-${key.id}-${i}`, keyId: key.id, microUsd: 10.08, budgetMicroUsd: 15, at: T0 });
    const first = await one.metering.take(key.id, { rpm: 10, tpm: 100_000 }, 8, hold(0), served(key, 0));
    expect(first).toMatchObject({ allowed: true, held: true, recorded: false });
    expect((await one.metering.take(key.id, { rpm: 10, tpm: 100_000 }, 8, hold(1), served(key, 1))).held).toBe(false);
    one.close();
  });

  it('a budget given later to a key without one starts from what its roll-ups billed this month', async () => {
    const key = await newKey('metering_later');
    const one = instance();
    for (let i = 0; i < 3; i++) expect((await one.metering.take(key.id, { rpm: 10, tpm: 100_000 }, 8, undefined, served(key, i))).recorded).toBe(true);
    await one.settle();
    expect(await one.store.spentSince(key.id, monthStart(T0))).toBeCloseTo(3 * 10.08, 6);
    await one.store.changeKey(key.id, { monthlyBudgetMicroUsd: 35 }, T0);
    await one.store.changeKey(key.id, { monthlyBudgetMicroUsd: 40 }, T0); // a second change counts them no second time
    // 30.24 spent: 10.08 more would pass 35 (and 40, had the roll-ups been counted twice it would fail at 30.24 + 30.24)
    expect(await one.store.holdBudget({ id: 'h1', keyId: key.id, microUsd: 10.08, budgetMicroUsd: 35, at: T0 })).toBe(false);
    expect(await one.store.holdBudget({ id: 'h2', keyId: key.id, microUsd: 9, budgetMicroUsd: 40, at: T0 })).toBe(true);
    one.close();
  });
});

/** A proxy in front of dynalite that forwards everything and, once, answers an applied `operation` with a 500. */
async function answerLostOnce(target: string, operation: string): Promise<{ endpoint: string; readonly lost: number; close(): Promise<void> }> {
  const upstream = new URL(target);
  let lost = 0;
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (p: Buffer) => parts.push(p));
    req.on('end', () => {
      const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        const back: Buffer[] = [];
        answer.on('data', (p: Buffer) => back.push(p));
        answer.on('end', () => {
          if (lost === 0 && String(req.headers['x-amz-target']).endsWith(`.${operation}`) && answer.statusCode === 200) {
            lost += 1;
            res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
            res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'answer lost (test)' }));
            return;
          }
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          res.end(Buffer.concat(back));
        });
      });
      out.on('error', () => res.destroy());
      out.end(Buffer.concat(parts));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get lost() { return lost; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
