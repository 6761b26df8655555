// What metering writes to D1 (billed by rows written, indexes included), read from D1's own meta.rows_written on
// Miniflare's real D1 with migrations/ applied: a usage record 3 rows, its key's month 1 (none for a cost of 0), a
// budget hold 1 and its release 1; a record written again (a retried write) writes nothing and counts nothing twice.
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { SqlBillingStore } from '../../functions/billing/sql-billing-store.js';
import type { UsageRecord } from '../../functions/billing/types.js';
import { d1Database, type D1Database, type D1PreparedStatement } from '../../functions/worker/d1-database.js';

const DB = (env as { DB: D1Database }).DB;

type Meta = { meta: { rows_written?: number } };

/** DB, with the rows written that D1 reports summed into `written`. */
function counted(): { db: D1Database; written: () => number } {
  let rows = 0;
  const note = (result: unknown) => { rows += (result as Meta).meta.rows_written ?? 0; };
  const real = new WeakMap<object, D1PreparedStatement>();
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const wrapped: D1PreparedStatement = {
      bind: (...values) => wrap(statement.bind(...values)),
      run: async () => { const r = await statement.run(); note(r); return r; },
      all: async <T>() => { const r = await statement.all<T>(); note(r); return r; },
    };
    real.set(wrapped, statement);
    return wrapped;
  };
  return {
    db: {
      prepare: (sql) => wrap(DB.prepare(sql)),
      batch: async (statements) => {
        const results = await DB.batch(statements.map((s) => real.get(s) ?? s));
        results.forEach(note);
        return results;
      },
    },
    written: () => rows,
  };
}

const record = (id: string, keyId: string, at: number): UsageRecord => ({
  id, requestId: `req-${id}`, keyId, tenantId: 'rows_tenant', model: 'sst2-bert', modelVersion: '1', path: 'edge', route: 'POST /v1/classify',
  inputTokens: 7, outputTokens: 0, computeMs: 1.5, status: 200, costMicroUsd: 12.5, idempotentReplay: false, createdAt: at, heldMicroUsd: 20,
});

describe('D1 rows written by metering', () => {
  it('a budgeted request: hold 1 row, then record 3 + month 1 + release 1; the same record again writes nothing', async () => {
    const { db, written } = counted();
    const store = new SqlBillingStore(d1Database(db));
    const at = Date.UTC(2026, 11, 3, 12);
    expect(await store.holdBudget({ id: 'rows-1', keyId: 'key_rows', microUsd: 20, budgetMicroUsd: 100, at })).toBe(true);
    expect(written()).toBe(1);
    await store.insertUsage([record('rows-1', 'key_rows', at)]);
    expect(written()).toBe(1 + 3 + 1 + 1);
    await store.insertUsage([record('rows-1', 'key_rows', at)]); // a retried write
    expect(written()).toBe(6);
    expect(await store.spentSince('key_rows', Date.UTC(2026, 11, 1))).toBe(12.5);
    const holds = (await DB.prepare('SELECT COUNT(*) AS n FROM budget_holds WHERE key_id = ?').bind('key_rows').all<{ n: number }>()).results;
    expect(holds[0]!.n).toBe(0);
    // The released hold no longer counts: 100 - 12.5 is left, so 87.5 fits and 87.6 does not.
    expect(await store.holdBudget({ id: 'rows-2', keyId: 'key_rows', microUsd: 87.6, budgetMicroUsd: 100, at })).toBe(false);
    expect(await store.holdBudget({ id: 'rows-3', keyId: 'key_rows', microUsd: 87.5, budgetMicroUsd: 100, at })).toBe(true);
  });

  it('a request without a budget: record 3 + month 1', async () => {
    const { db, written } = counted();
    const store = new SqlBillingStore(d1Database(db));
    await store.insertUsage([record('rows-4', 'key_rows_free', Date.UTC(2026, 11, 3, 12))]);
    expect(written()).toBe(4);
  });

  it('a refused or free request (cost 0): record 3, its month not written', async () => {
    const { db, written } = counted();
    const store = new SqlBillingStore(d1Database(db));
    await store.insertUsage([{ ...record('rows-5', 'key_rows_refused', Date.UTC(2026, 11, 3, 12)), status: 429, costMicroUsd: 0, heldMicroUsd: 0 }]);
    expect(written()).toBe(3);
    expect(await store.spentSince('key_rows_refused', Date.UTC(2026, 11, 1))).toBe(0);
  });
});
