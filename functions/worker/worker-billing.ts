/**
 * Billing on D1 at the edge: keys, budgets and usage, for the Worker's requests and its fine-tuning jobs.
 * A keyed request costs two calls to its key's Durable Object (KeyRateLimiter) and no D1 write: `take` (rate limits
 * and the budget hold, in one step) and, after the answer, `record` (its usage record and token settlement); a
 * classification one: its `take` carries its record (known before the model runs), and only one that ends otherwise
 * (failed, refused after admission) calls again, to cancel it (billing-middleware.ts); a 400 and a 429 one too
 * (their records are known at their take). Streamed generation keeps two (its use is known at its end). The
 * object sums records into roll-ups (a row per minute, model, route and status) that its alarm writes to D1 every
 * FLUSH_MS (key-usage-meter.ts), so D1's rows written per request fall with the key's traffic: a roll-up costs 3 rows
 * for its usage row and 1 for the key's month, shared by every request it sums (issue 16; it was 4 rows a request).
 * Keyless requests (open mode) write their own record to D1 (RequestUsageWriter); a record D1 refuses on every
 * attempt is parked in the key's object, whose alarm writes it. Key lookups are cached per isolate for
 * KEY_CACHE_MS, found or not: a key disabled or revoked through another isolate still works there for at most that
 * long (through this isolate's admin API, at once).
 */
import { Authenticator } from '../billing/authenticator.js';
import type { Billing } from '../billing/billing-middleware.js';
import { RateLimiter } from '../billing/rate-limiter.js';
import { RequestUsageWriter } from '../billing/request-usage-writer.js';
import { SqlBillingStore } from '../billing/sql-billing-store.js';
import { d1Database } from './d1-database.js';
import { DurableUsageSink } from './durable-usage-sink.js';
import { DurableKeyLimiter } from './key-rate-limiter.js';
import type { Env } from './worker-env.js';

/** How long an isolate trusts a key lookup (the revocation bound across isolates). */
export const KEY_CACHE_MS = 10_000;

export function workerBilling(env: Env): Billing | undefined {
  if (!env.DB) return undefined;
  const store = new SqlBillingStore(d1Database(env.DB));
  const durable = env.RATE_LIMITER ? new DurableKeyLimiter(env.RATE_LIMITER) : null;
  const onError = (error: unknown) => console.error(`usage write failed: ${error instanceof Error ? error.message : String(error)}`);
  const direct = new RequestUsageWriter(store, {
    attempts: 3,
    backoffMs: 200,
    onError,
    // A record D1 refused three times is parked in its key's object, whose alarm writes it (key-rate-limiter.ts).
    park: durable ? (record) => durable.park(record) : undefined,
  });
  const writer = durable ? new DurableUsageSink(durable, direct, { attempts: 3, backoffMs: 100, onError }) : direct;
  const limiter = durable ?? new RateLimiter();
  return { mode: env.AUTH_MODE === 'open' ? 'open' : 'keys', store, writer, authenticator: new Authenticator(store, KEY_CACHE_MS), limiter };
}
