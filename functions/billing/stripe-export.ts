/**
 * Billing events as Stripe meter events, one JSON object per line: `event_name`, `payload.stripe_customer_id`,
 * `payload.value` (the request's cost in pico-dollars, 1e-12 USD: a whole number as Stripe requires, and exact, since
 * costs are kept to 1e-6 micro-dollars; rounding each record to micro-dollars dropped sub-micro-dollar requests and
 * drifted from /v1/usage), `identifier` (the usage record's own id, so Stripe drops a resent event, and two
 * requests never share one) and `timestamp` (Unix seconds). Free and unbilled requests are left out.
 *
 * A correction (a request refused after its record was written: a row of negative cost, usage-rollup.ts) has no
 * event of its own, since a meter event's value cannot be negative: it is taken off the same customer's events of
 * the range, earliest first, so that each customer's exported total is what /v1/usage sums. The same range always
 * nets the same way (a resent event keeps its value). A credit the range holds no event to take from is counted in
 * `unexported.credits`, for the operator to apply in Stripe.
 */
import type { BillingStore } from './types.js';

export const METER_EVENT_NAME = 'edge_maas_cost_pico_usd';
export const PICO_PER_MICRO = 1_000_000;

/** Billed records no event can carry: made without a key (open mode), or of a tenant without a Stripe customer. */
/**
 * The part of [from, to) that can be exported now: Stripe keeps the first event of an identifier, so a roll-up that
 * may still grow (the store's rollupsSettleMs) is left to a later export whose range starts where this one ended.
 */
export function exportableRange(store: BillingStore, range: { from: number; to: number }, now: number): { from: number; to: number } {
  if (!store.rollupsSettleMs) return range;
  const settled = Math.floor((now - store.rollupsSettleMs) / 60_000) * 60_000;
  return { from: range.from, to: Math.max(range.from, Math.min(range.to, settled)) };
}

export interface Unexported {
  records: number;
  microUsd: number;
  /** Corrections no event of their customer's in the range could take (micro-USD, positive: owed back). */
  credits?: { records: number; microUsd: number };
}

/** The events of the records made in [range.from, range.to); what no event can carry is added to `unexported`. */
export async function* stripeMeterEvents(store: BillingStore, range: { from: number; to: number }, unexported: Unexported = { records: 0, microUsd: 0 }): AsyncGenerator<string> {
  const customers = new Map<string, string | null>();
  const customerOf = async (tenantId: string | null): Promise<string | null> => {
    if (!tenantId) return null;
    if (!customers.has(tenantId)) customers.set(tenantId, (await store.getTenant(tenantId))?.stripeCustomerId ?? null);
    return customers.get(tenantId)!;
  };
  const records = await store.usageRecords({ from: range.from, to: range.to });
  /** Pico-dollars to take off each customer's events, with the corrections they came from. */
  const owed = new Map<string, { pico: number; records: number }>();
  for (const record of records) {
    const value = Math.round(record.costMicroUsd * PICO_PER_MICRO);
    if (value >= 0) continue;
    const customer = await customerOf(record.tenantId);
    if (!customer) {
      unexported.records++;
      unexported.microUsd += record.costMicroUsd;
      continue;
    }
    const credit = owed.get(customer) ?? { pico: 0, records: 0 };
    owed.set(customer, { pico: credit.pico - value, records: credit.records + 1 });
  }
  for (const record of records) {
    let value = Math.round(record.costMicroUsd * PICO_PER_MICRO);
    if (value <= 0) continue;
    const customer = await customerOf(record.tenantId);
    if (!customer) {
      unexported.records++;
      unexported.microUsd += record.costMicroUsd;
      continue;
    }
    const credit = owed.get(customer);
    if (credit && credit.pico > 0) {
      const taken = Math.min(credit.pico, value);
      credit.pico -= taken;
      value -= taken;
      if (value === 0) continue;
    }
    yield `${JSON.stringify({
      event_name: METER_EVENT_NAME,
      payload: { stripe_customer_id: customer, value: String(value) },
      identifier: record.id,
      timestamp: Math.floor(record.createdAt / 1000),
    })}\n`;
  }
  for (const credit of owed.values()) {
    if (credit.pico <= 0) continue;
    const left = (unexported.credits ??= { records: 0, microUsd: 0 });
    left.records += credit.records;
    left.microUsd += credit.pico / PICO_PER_MICRO;
  }
}
