// A correction (a request refused after its record was written: a row of negative cost) cannot be a Stripe meter
// event of its own; the export nets it against its customer's other events of the range, so that each customer's
// exported total equals what /v1/usage sums, and says what it could not net. A real SQLite file and store.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SqlBillingStore } from '../../functions/billing/sql-billing-store.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoBillingStore } from '../../functions/billing/dynamo/dynamo-billing-store.js';
import { exportableRange, PICO_PER_MICRO, stripeMeterEvents, type Unexported } from '../../functions/billing/stripe-export.js';
import type { UsageRecord } from '../../functions/billing/types.js';
import { migrationsDir } from '../../functions/node/billing-setup.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';

let dir: string;
let db: Awaited<ReturnType<typeof openSqlite>>;
let store: SqlBillingStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-maas-stripe-credits-'));
  db = await openSqlite(join(dir, 'usage.sqlite'), migrationsDir);
  store = new SqlBillingStore(db);
  for (const [id, customer] of [['acme', 'cus_acme'], ['solo', 'cus_solo']] as const) await store.createTenant({ id, stripeCustomerId: customer, createdAt: 0 });
});
afterAll(async () => {
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

const record = (id: string, tenantId: string, costMicroUsd: number, createdAt: number, requests = 1): UsageRecord => ({
  id, requestId: id, keyId: null, tenantId, model: 'sst2-glove-bilstm', modelVersion: '1', path: 'edge', route: '/v1/classify',
  inputTokens: 5 * requests, outputTokens: 0, computeMs: 0, status: 200, costMicroUsd, idempotentReplay: false, createdAt, heldMicroUsd: 0, requests,
});

async function exported(range: { from: number; to: number }) {
  const unexported: Unexported = { records: 0, microUsd: 0 };
  const events: { identifier: string; payload: { stripe_customer_id: string; value: string } }[] = [];
  for await (const line of stripeMeterEvents(store, range, unexported)) events.push(JSON.parse(line) as (typeof events)[number]);
  const total = (customer: string) => events.filter((e) => e.payload.stripe_customer_id === customer).reduce((sum, e) => sum + Number(e.payload.value), 0);
  return { events, unexported, total };
}

it('nets a correction against its customer\'s events, earliest first, to the pico-dollar; every event stays positive', async () => {
  await store.insertUsage([
    record('r1', 'acme', 10, 1_000),
    record('r2', 'acme', 10.5, 2_000, 3),
    record('r3', 'acme', 10, 3_000),
    record('c1', 'acme', -15.25, 4_000, -1), // a correction after its roll-up was written
  ]);
  const range = { from: 0, to: 10_000 };
  const { events, unexported, total } = await exported(range);
  const usage = await store.usage({ ...range, tenantId: 'acme' }, 'key');
  expect(total('cus_acme')).toBe(Math.round(usage.reduce((sum, row) => sum + row.costMicroUsd, 0) * PICO_PER_MICRO));
  expect(total('cus_acme')).toBe(Math.round((10 + 10.5 + 10 - 15.25) * PICO_PER_MICRO));
  expect(events.map((e) => e.identifier)).toEqual(['r2', 'r3']); // r1 taken whole, r2 in part
  expect(events.every((e) => Number(e.payload.value) > 0)).toBe(true);
  expect(unexported.credits).toBeUndefined();
  // The same range nets the same way (a resent event keeps its identifier and value).
  expect((await exported(range)).events).toEqual(events);
});

it('counts a correction with nothing of its customer\'s in the range to net against, instead of dropping it', async () => {
  await store.insertUsage([record('c2', 'solo', -10, 20_000, -1)]);
  const { events, unexported } = await exported({ from: 15_000, to: 30_000 });
  expect(events).toEqual([]);
  expect(unexported.credits).toEqual({ records: 1, microUsd: 10 });
});

it('exports a store of growing minute roll-ups (DynamoDB) only up to two whole minutes ago; other stores up to what was asked', async () => {
  const now = Date.UTC(2026, 11, 4, 12, 30, 45);
  const dynamo = new DynamoBillingStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' })), {} as never);
  const asked = { from: Date.UTC(2026, 11, 4), to: now };
  expect(exportableRange(dynamo, asked, now)).toEqual({ from: asked.from, to: Date.UTC(2026, 11, 4, 12, 28) });
  expect(exportableRange(dynamo, { from: now - 1000, to: now }, now)).toEqual({ from: now - 1000, to: now - 1000 });
  expect(exportableRange(store, asked, now)).toEqual(asked);
});
