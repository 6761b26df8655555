/**
 * The usage writer against a real SQLite store whose writes fail for a while: records are retried until written,
 * never lost and never counted twice (not even when a write committed but reported failure), and close() says how
 * many records it could not write.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqlBillingStore } from '../../functions/billing/sql-billing-store.js';
import type { BillingStore, UsageRecord } from '../../functions/billing/types.js';
import { UsageWriter } from '../../functions/billing/usage-writer.js';
import { migrationsDir } from '../../functions/node/billing-setup.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import { eventually } from '../helpers/eventually.js';
import { tempDb } from './helpers.js';
import { sqliteRows } from './sqlite-rows.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const NOW = Date.UTC(2026, 10, 15);

async function sqliteStore(): Promise<{ store: SqlBillingStore; path: string }> {
  const db = await tempDb();
  const sqlite = await openSqlite(db.path, migrationsDir);
  cleanups.push(db.remove, () => sqlite.close());
  const store = new SqlBillingStore(sqlite);
  await store.createTenant({ id: 'acme', stripeCustomerId: null, createdAt: NOW });
  await store.createKey({ id: 'key_a', tenantId: 'acme', name: 'a', prefix: 'em_aaaaaaaaa', keyHash: 'hash-a', status: 'active', rpm: 60, tpm: 1000, monthlyBudgetMicroUsd: null, createdAt: NOW, updatedAt: NOW });
  return { store, path: db.path };
}

/** The real store, with insertUsage made to fail: `before` fails without writing, `after` writes and then fails. */
function failing(store: BillingStore, plan: { before?: number; after?: number }): BillingStore & { failures: number } {
  let [before, after] = [plan.before ?? 0, plan.after ?? 0];
  const wrapper = Object.create(store) as BillingStore & { failures: number };
  wrapper.failures = 0;
  wrapper.insertUsage = async (records: UsageRecord[]) => {
    if (before > 0) {
      before--;
      wrapper.failures++;
      throw new Error('database is locked');
    }
    await store.insertUsage(records);
    if (after > 0) {
      after--;
      wrapper.failures++;
      throw new Error('connection reset after commit');
    }
  };
  return wrapper;
}

const record = (n: number, costMicroUsd = 1.5): UsageRecord => ({
  id: `u-${n}`, requestId: `r-${n}`, keyId: 'key_a', tenantId: 'acme', model: 'sst2-bert', modelVersion: '2', path: 'edge', route: 'POST /v1/classify',
  inputTokens: 10 + n, outputTokens: 0, computeMs: 1, status: 200, costMicroUsd, idempotentReplay: false, createdAt: NOW + n, heldMicroUsd: 0,
});

/** An observer that counts the records the writer reports written. */
function counter() {
  const count = { written: 0 };
  return { count, onWritten: (n: number) => void (count.written += n) };
}

const written = (path: string) => ({
  ids: sqliteRows(path, 'SELECT id FROM usage ORDER BY id').map((r) => r.id as string),
  spent: sqliteRows(path, "SELECT SUM(micro_usd) AS spent FROM key_month_spend WHERE key_id = 'key_a'")[0]!.spent as number | null,
});

describe('the usage writer when writes fail', () => {
  it('retries a failed write until every record is written, with records that arrived meanwhile', async () => {
    const { store, path } = await sqliteStore();
    const flaky = failing(store, { before: 3 });
    const errors: unknown[] = [];
    const { count, onWritten } = counter();
    const writer = new UsageWriter(flaky, { intervalMs: 2, maxBatch: 100, onError: (e) => errors.push(e), onWritten });
    for (let n = 0; n < 5; n++) writer.record(record(n));
    await eventually(() => flaky.failures, (f) => f >= 1);
    for (let n = 5; n < 8; n++) writer.record(record(n)); // while the store is failing
    await eventually(() => count.written, (w) => w === 8);
    expect(errors.map((e) => (e as Error).message)).toEqual(Array(3).fill('database is locked'));
    expect(written(path)).toEqual({ ids: Array.from({ length: 8 }, (_, n) => `u-${n}`), spent: 8 * 1.5 });
    await writer.close();
  });

  it('counts a write that committed but reported failure once when it is retried', async () => {
    const { store, path } = await sqliteStore();
    const lostAck = failing(store, { after: 2 });
    const { count, onWritten } = counter();
    const writer = new UsageWriter(lostAck, { intervalMs: 2, maxBatch: 100, onWritten });
    for (let n = 0; n < 4; n++) writer.record(record(n, 2));
    await eventually(() => count.written, (w) => w === 4);
    expect(lostAck.failures).toBe(2);
    expect(written(path)).toEqual({ ids: ['u-0', 'u-1', 'u-2', 'u-3'], spent: 8 });
    await writer.close();
  });

  it('writes once another connection releases the exclusive lock it held on the file', async () => {
    const { store, path } = await sqliteStore();
    const holder = new Database(path);
    cleanups.push(() => void (holder.open && holder.close()));
    holder.exec('BEGIN EXCLUSIVE');
    const errors: string[] = [];
    const { count, onWritten } = counter();
    // The store's connection waits out its busy timeout (5 s), fails, and the lock goes away before the retry.
    const writer = new UsageWriter(store, { intervalMs: 2, maxBatch: 1, onWritten, onError: (e) => {
      errors.push((e as Error).message);
      if (holder.inTransaction) holder.exec('COMMIT');
    } });
    writer.record(record(1));
    await eventually(() => count.written, (w) => w === 1, 30_000);
    expect(errors).toEqual(['database is locked']);
    expect(written(path)).toEqual({ ids: ['u-1'], spent: 1.5 });
    await writer.close();
  }, 30_000);

  it('close() with records it cannot write throws how many, and keeps none of them as written', async () => {
    const { store, path } = await sqliteStore();
    const down = failing(store, { before: Number.POSITIVE_INFINITY });
    const { count, onWritten } = counter();
    const writer = new UsageWriter(down, { intervalMs: 60_000, maxBatch: 100, onWritten });
    writer.record(record(1));
    writer.record(record(2));
    await expect(writer.close()).rejects.toThrow('2 usage records could not be written');
    expect(count.written).toBe(0);
    expect(written(path)).toEqual({ ids: [], spent: null });
  });
});
