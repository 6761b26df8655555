// Training billed through billing's own store and usage writer, on a real SQLite file: the job's maximum cost is
// held of the key's monthly budget, and its one usage record settles the hold.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlBillingStore } from '../../functions/billing/sql-billing-store.js';
import type { ApiKeyRecord } from '../../functions/billing/types.js';
import { UsageWriter } from '../../functions/billing/usage-writer.js';
import { BillingTrainingMeter } from '../../functions/tuning/billing-training-meter.js';
import { migrationsDir } from '../../functions/node/billing-setup.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import type { TrainingCharge } from '../../functions/tuning/training-meter.js';

let dir: string;
let db: Awaited<ReturnType<typeof openSqlite>>;
let store: SqlBillingStore;
let writer: UsageWriter;
let meter: BillingTrainingMeter;
const NOW = Date.UTC(2026, 11, 2, 12);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-maas-meter-'));
  db = await openSqlite(join(dir, 'usage.sqlite'), migrationsDir);
  store = new SqlBillingStore(db);
  writer = new UsageWriter(store, { intervalMs: 10, maxBatch: 100 });
  meter = new BillingTrainingMeter({ store, writer, now: () => NOW });
  await store.createTenant({ id: 'acme', stripeCustomerId: null, createdAt: NOW });
});
afterAll(async () => {
  await writer.close();
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

async function key(id: string, monthlyBudgetMicroUsd: number | null): Promise<ApiKeyRecord> {
  const record: ApiKeyRecord = { id, tenantId: 'acme', name: null, prefix: `p_${id}`, keyHash: `h_${id}`, status: 'active', rpm: 60, tpm: 100_000, monthlyBudgetMicroUsd, createdAt: NOW, updatedAt: NOW };
  await store.createKey(record);
  return record;
}

const charge = (keyId: string | null, jobId: string): TrainingCharge =>
  ({ usageId: `u-${jobId}`, jobId, tenantId: keyId ? 'acme' : 'open', keyId, model: { id: 'electra-imdb-small', version: '1' } });

const spent = async (keyId: string) => store.spentSince(keyId, Date.UTC(2026, 11, 1));

describe('BillingTrainingMeter', () => {
  it('holds a job of a key with a budget, refuses the next that does not fit with 402, and a record settles the hold', async () => {
    await key('k_budget', 1_000);
    await meter.reserve(charge('k_budget', 'ftjob-a'), 700, 7_000);
    await expect(meter.reserve(charge('k_budget', 'ftjob-b'), 400, 4_000)).rejects.toMatchObject({ status: 402, code: 'budget_exhausted', type: 'billing_error' });
    // The first used less than it reserved: its record frees the rest of the hold.
    await meter.settle(charge('k_budget', 'ftjob-a'), { trainedTokens: 5_000, costMicroUsd: 500, status: 200, computeMs: 1234.5678 });
    await writer.flush();
    expect(await spent('k_budget')).toBe(500);
    await meter.reserve(charge('k_budget', 'ftjob-b'), 400, 4_000);
    const [record] = (await store.usageRecords({ from: NOW - 1, to: NOW + 1, tenantId: 'acme' })).filter((r) => r.id === 'u-ftjob-a');
    expect(record).toMatchObject({
      requestId: 'ftjob-a', keyId: 'k_budget', tenantId: 'acme', model: 'electra-imdb-small', modelVersion: '1', route: 'fine-tuning job ftjob-a',
      inputTokens: 5_000, outputTokens: 0, computeMs: 1234.568, status: 200, costMicroUsd: 500,
    });
  });

  it('never refuses a key without a budget, nor an open-mode job, and records those without a tenant', async () => {
    await key('k_free', null);
    await meter.reserve(charge('k_free', 'ftjob-c'), 1e12, 1e9);
    await meter.reserve(charge(null, 'ftjob-d'), 1e12, 1e9);
    await meter.settle(charge(null, 'ftjob-d'), { trainedTokens: 10, costMicroUsd: 1, status: 200, computeMs: 1 });
    await writer.flush();
    const open = await store.usageRecords({ from: NOW - 1, to: NOW + 1, tenantId: null });
    expect(open.map((r) => [r.id, r.keyId, r.costMicroUsd])).toEqual([['u-ftjob-d', null, 1]]);
  });

  it('records what a failed job is settled at, with its status', async () => {
    await key('k_failed', 1_000);
    await meter.reserve(charge('k_failed', 'ftjob-e'), 900, 9_000);
    await meter.settle(charge('k_failed', 'ftjob-e'), { trainedTokens: 0, costMicroUsd: 0, status: 422, computeMs: 0 });
    await writer.flush();
    expect(await spent('k_failed')).toBe(0);
    // The hold is gone with the record: the whole budget fits again.
    await meter.reserve(charge('k_failed', 'ftjob-f'), 1_000, 10_000);
  });
});
