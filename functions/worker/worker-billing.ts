/** Billing on D1 at the edge: keys, budgets and usage records, for the Worker's requests and its fine-tuning jobs. */
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
  const writer = new RequestUsageWriter(store, {
    attempts: 3,
    backoffMs: 200,
    onError: (error) => console.error(`usage write failed: ${error instanceof Error ? error.message : String(error)}`),
  });
  const limiter = env.RATE_LIMITER ? new DurableKeyLimiter(env.RATE_LIMITER) : new RateLimiter();
  return { mode: env.AUTH_MODE === 'open' ? 'open' : 'keys', store, writer, authenticator: new Authenticator(store), limiter };
}
