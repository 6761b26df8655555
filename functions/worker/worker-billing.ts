/**
 * Billing on D1 at the edge: keys, budgets and usage records, for the Worker's requests and its fine-tuning jobs.
 * Each request writes its own record to D1 (its waitUntil), not through a batch in the key's Durable Object: D1 bills
 * rows written, not statements, so a batch saves no row, and an object's durable storage (needed so that eviction
 * loses nothing) bills rows at D1's price. Buffering there writes a row in the object per request (and a share of one
 * to delete it), the same usage rows in D1, and a stub call for requests that settle nothing: it saves the month's
 * row (1) and costs more than that (issue 16). What a record costs is its rows: 3 for the usage row (migrations/0004), 1 for its key's month when it costs anything, 1 for a
 * budget hold and 1 for its release (0005); test/worker/usage-rows-written.test.ts pins them. A record D1 refuses
 * on every attempt is parked in its key's object, whose alarm writes it (key-rate-limiter.ts): the object's storage
 * is paid for only then. Key lookups are cached 2 s per isolate (Authenticator), found or not.
 */
import { Authenticator } from '../billing/authenticator.js';
import type { Billing } from '../billing/billing-middleware.js';
import { RateLimiter } from '../billing/rate-limiter.js';
import { RequestUsageWriter } from '../billing/request-usage-writer.js';
import { SqlBillingStore } from '../billing/sql-billing-store.js';
import { d1Database } from './d1-database.js';
import { DurableKeyLimiter } from './key-rate-limiter.js';
import type { Env } from './worker-env.js';

export function workerBilling(env: Env): Billing | undefined {
  if (!env.DB) return undefined;
  const store = new SqlBillingStore(d1Database(env.DB));
  const durable = env.RATE_LIMITER ? new DurableKeyLimiter(env.RATE_LIMITER) : null;
  const writer = new RequestUsageWriter(store, {
    attempts: 3,
    backoffMs: 200,
    onError: (error) => console.error(`usage write failed: ${error instanceof Error ? error.message : String(error)}`),
    // A record D1 refused three times is parked in its key's object, whose alarm writes it (key-rate-limiter.ts).
    park: durable ? (record) => durable.park(record) : undefined,
  });
  const limiter = durable ?? new RateLimiter();
  return { mode: env.AUTH_MODE === 'open' ? 'open' : 'keys', store, writer, authenticator: new Authenticator(store), limiter };
}
