/**
 * Billing for the Node server, the CLIs and the Lambda router. The store is DynamoDB when BILLING_TABLE and
 * USAGE_TABLE name its tables (the AWS deployment; DYNAMODB_ENDPOINT for a local one), with rate limits shared in
 * DynamoDB; otherwise an SQLite file (migrations applied) with in-memory rate limits. Usage writes are batched.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Authenticator } from '../billing/authenticator.js';
import type { Billing } from '../billing/billing-middleware.js';
import { TABLE_ENV, type BillingTableNames } from '../billing/dynamo/schema.js';
import { PendingWork } from '../billing/pending-work.js';
import { RateLimiter, type KeyLimiter } from '../billing/rate-limiter.js';
import { SqlBillingStore } from '../billing/sql-billing-store.js';
import type { BillingStore } from '../billing/types.js';
import { UsageWriter, type UsageSink } from '../billing/usage-writer.js';
import { openSqlite } from './sqlite-database.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const migrationsDir = resolve(repoRoot, 'migrations');
export const defaultUsageDb = () => process.env.USAGE_DB ?? resolve(repoRoot, '.data', 'edge-maas.sqlite');

export interface NodeBilling {
  billing: Billing;
  /** Writes every queued usage record and rate-limit count (Lambda: before an invocation ends). */
  settle(): Promise<void>;
  /** Settles, then closes the store. */
  close(): Promise<void>;
}

export function dynamoTablesFromEnv(env: NodeJS.ProcessEnv = process.env): BillingTableNames | null {
  const [billing, usage] = [env[TABLE_ENV.billing], env[TABLE_ENV.usage]];
  if (!billing && !usage) return null;
  if (!billing || !usage) throw new Error(`set both ${TABLE_ENV.billing} and ${TABLE_ENV.usage} for DynamoDB billing, or neither for SQLite`);
  return { billing, usage };
}

interface Backend {
  store: BillingStore;
  limiter: KeyLimiter;
  /** DynamoDB: rate limits and records of a request in as few writes as it allows, over the usage writer. */
  metering?: (writer: UsageWriter) => KeyLimiter & UsageSink;
  close(): void;
}

async function sqliteBackend(path: string): Promise<Backend> {
  await mkdir(dirname(path), { recursive: true });
  const db = await openSqlite(path, migrationsDir);
  return { store: new SqlBillingStore(db), limiter: new RateLimiter(), close: () => db.close() };
}

async function dynamoBackend(tables: BillingTableNames, pending: PendingWork, onError: (error: unknown) => void): Promise<Backend> {
  // Loaded on use: the SQLite path never pays for the AWS SDK.
  const [{ documentClient }, { DynamoBillingStore }, { DynamoKeyLimiter }, { DynamoMetering }] = await Promise.all([
    import('../billing/dynamo/dynamo-client.js'),
    import('../billing/dynamo/dynamo-billing-store.js'),
    import('../billing/dynamo/dynamo-key-limiter.js'),
    import('../billing/dynamo/dynamo-metering.js'),
  ]);
  const client = documentClient();
  const store = new DynamoBillingStore(client, tables);
  return {
    store,
    limiter: new DynamoKeyLimiter(client, tables.billing, { waitUntil: pending.add, onError }),
    metering: (writer) => new DynamoMetering(client, { table: tables.usage, holdBudget: (hold) => store.holdBudget(hold), writer, waitUntil: pending.add, onError }),
    close: () => client.destroy(),
  };
}

const logError = (what: string) => (error: unknown) => console.error(`${what}: ${error instanceof Error ? error.message : String(error)}`);

export interface OpenBillingOptions {
  mode: 'keys' | 'open';
  /** An SQLite file; without it, DynamoDB when the environment names its tables, else $USAGE_DB. */
  dbPath?: string;
  /** Told how many usage records each write stored (tests count them; metrics will). */
  onUsageWritten?: (count: number) => void;
}

export async function openBilling(options: OpenBillingOptions): Promise<NodeBilling> {
  const pending = new PendingWork();
  const tables = options.dbPath === undefined ? dynamoTablesFromEnv() : null;
  const backend = tables
    ? await dynamoBackend(tables, pending, logError('rate limit store unavailable, request allowed'))
    : await sqliteBackend(options.dbPath ?? defaultUsageDb());
  const writer = new UsageWriter(backend.store, {
    intervalMs: 100, maxBatch: 500, waitUntil: pending.add, onError: logError('usage write failed, will retry'), onWritten: options.onUsageWritten,
  });
  const metering = backend.metering?.(writer);
  const billing: Billing = {
    mode: options.mode, store: backend.store, writer: metering ?? writer, authenticator: new Authenticator(backend.store), limiter: metering ?? backend.limiter,
  };
  const settle = async () => {
    await writer.flush();
    await pending.settled();
  };
  return {
    billing,
    settle,
    close: async () => {
      await settle();
      await writer.close();
      backend.close();
    },
  };
}
