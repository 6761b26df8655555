/** Billing for the Node server: an SQLite file (migrations applied), in-memory rate limits, batched usage writes. */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Authenticator } from '../billing/authenticator.js';
import type { Billing } from '../billing/billing-middleware.js';
import { BudgetGuard } from '../billing/budget-guard.js';
import { RateLimiter } from '../billing/rate-limiter.js';
import { SqlBillingStore } from '../billing/sql-billing-store.js';
import { UsageWriter } from '../billing/usage-writer.js';
import { openSqlite } from './sqlite-database.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const migrationsDir = resolve(repoRoot, 'migrations');
export const defaultUsageDb = () => process.env.USAGE_DB ?? resolve(repoRoot, '.data', 'edge-maas.sqlite');

export interface NodeBilling {
  billing: Billing;
  /** Writes every queued usage record, then closes the database. */
  close(): Promise<void>;
}

export async function openBilling(options: { mode: 'keys' | 'open'; dbPath?: string }): Promise<NodeBilling> {
  const path = options.dbPath ?? defaultUsageDb();
  await mkdir(dirname(path), { recursive: true });
  const db = await openSqlite(path, migrationsDir);
  const store = new SqlBillingStore(db);
  const writer = new UsageWriter(store, {
    intervalMs: 100,
    maxBatch: 500,
    onError: (error) => console.error(`usage write failed, will retry: ${error instanceof Error ? error.message : String(error)}`),
  });
  const billing: Billing = { mode: options.mode, store, writer, authenticator: new Authenticator(store), limiter: new RateLimiter(), budgets: new BudgetGuard(store) };
  return {
    billing,
    close: async () => {
      await writer.close();
      db.close();
    },
  };
}
