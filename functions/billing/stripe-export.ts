/**
 * Billing events as Stripe meter events, one JSON object per line: `event_name`, `payload.stripe_customer_id`,
 * `payload.value` (the request's cost in pico-dollars, 1e-12 USD: a whole number as Stripe requires, and exact, since
 * costs are kept to 1e-6 micro-dollars; rounding each record to micro-dollars dropped sub-micro-dollar requests and
 * drifted from /v1/usage), `identifier` (the usage record's own id, so Stripe drops a resent event, and two
 * requests never share one) and `timestamp` (Unix seconds). Free and unbilled requests are left out.
 */
import type { BillingStore } from './types.js';

export const METER_EVENT_NAME = 'edge_maas_cost_pico_usd';
export const PICO_PER_MICRO = 1_000_000;

/** Billed records no event can carry: made without a key (open mode), or of a tenant without a Stripe customer. */
export interface Unexported {
  records: number;
  microUsd: number;
}

/** The events of the records made in [range.from, range.to); what no event can carry is added to `unexported`. */
export async function* stripeMeterEvents(store: BillingStore, range: { from: number; to: number }, unexported: Unexported = { records: 0, microUsd: 0 }): AsyncGenerator<string> {
  const customers = new Map<string, string | null>();
  for (const record of await store.usageRecords({ from: range.from, to: range.to })) {
    const value = Math.round(record.costMicroUsd * PICO_PER_MICRO);
    if (value <= 0) continue;
    if (record.tenantId && !customers.has(record.tenantId)) customers.set(record.tenantId, (await store.getTenant(record.tenantId))?.stripeCustomerId ?? null);
    const customer = record.tenantId ? customers.get(record.tenantId) : null;
    if (!customer) {
      unexported.records++;
      unexported.microUsd += record.costMicroUsd;
      continue;
    }
    yield `${JSON.stringify({
      event_name: METER_EVENT_NAME,
      payload: { stripe_customer_id: customer, value: String(value) },
      identifier: record.id,
      timestamp: Math.floor(record.createdAt / 1000),
    })}\n`;
  }
}
