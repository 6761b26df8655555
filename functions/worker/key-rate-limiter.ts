/**
 * Exact per-key rate limits, budgets and usage counts at the edge: one Durable Object per API key holds that key's
 * token buckets, so every isolate and location that serves the key draws from the same buckets. The object keeps
 * them in memory; if it is evicted (idle for a while) the buckets start full again, which is what an idle key's
 * buckets are anyway.
 *
 * It also meters the key (key-usage-meter.ts): a request's `take` reserves its budget hold here, and its usage
 * record comes back in one `record` call after the answer (with the request's token settlement), counted in a
 * roll-up that the object's alarm writes to D1 every few seconds: a row per minute, model, route and status instead
 * of a row per request. A classification, whose record is known before its model runs, sends it with its `take`,
 * counted then in place of a hold: one call a request; one that ends otherwise sends its record with the one it
 * cancels (KeyUsageMeter.correct). A batch D1 refused, and a record a request could not hand to its object, is parked in the
 * object's durable storage (it outlives eviction) and written by the alarm, retried with backoff until D1 takes it,
 * then deleted. The writes are idempotent per id (SqlBillingStore.insertUsage), so a record parked twice, or a flush
 * retried after D1 took it but before the delete, counts once. Parking costs storage rows only when D1 failed.
 */
import { RateLimiter, type KeyLimiter, type Limits, type Settlement, type TakeDecision } from '../billing/rate-limiter.js';
import { SqlBillingStore } from '../billing/sql-billing-store.js';
import type { BudgetHold, UsageRecord } from '../billing/types.js';
import { d1Database, type D1Database } from './d1-database.js';
import { FLUSH_MS, KeyUsageMeter } from './key-usage-meter.js';

type LimitRequest =
  | { op: 'take'; key: string; limits: Limits; reserve: number; hold?: BudgetHold; record?: UsageRecord; refused?: UsageRecord }
  | ({ op: 'settle' } & Settlement)
  | { op: 'park'; key: string; records: UsageRecord[] }
  | { op: 'record'; key: string; records: UsageRecord[]; settlement?: Settlement | null; cancels?: UsageRecord }
  | { op: 'flush'; key: string };

/**
 * A take's answer: the limiter's decision; when it carried a hold, whether the budget held it; when it carried the
 * request's record, whether that was counted (admitted, within the budget).
 */
export type TakeAnswer = TakeDecision;

/** What this object uses of workerd's DurableObjectState. */
export interface LimiterState {
  storage: {
    get<T>(key: string): Promise<T | undefined>;
    put(entries: Record<string, unknown>): Promise<void>;
    list<T>(options: { prefix: string; limit: number }): Promise<Map<string, T>>;
    delete(keys: string[]): Promise<number>;
    getAlarm(): Promise<number | null>;
    setAlarm(scheduledTime: number): Promise<void>;
  };
}

const PARKED = 'usage:';
const ATTEMPTS = 'usage-flush-attempts';
/** Records per flush: 3 statements each in one D1 batch. */
export const PARKED_FLUSH_RECORDS = 50;
/** The first flush after a park, and the backoff after a failed one (doubling, at most PARKED_MAX_BACKOFF_MS). */
export const PARKED_FLUSH_MS = 1_000;
export const PARKED_MAX_BACKOFF_MS = 5 * 60_000;

export class KeyRateLimiter {
  private readonly limiter = new RateLimiter();
  private meterOf: KeyUsageMeter | null = null;

  constructor(private readonly state?: LimiterState, private readonly env?: { DB?: D1Database }) {}

  /** The key's meter (the object is named after its key, which every call carries). */
  meter(key: string): KeyUsageMeter {
    if (!this.state) throw new Error('no storage to meter usage with');
    return (this.meterOf ??= new KeyUsageMeter(key, this.state.storage, this.env?.DB, (rows) => this.park(rows)));
  }

  async fetch(request: Request): Promise<Response> {
    const body = (await request.json()) as LimitRequest;
    if (body.op === 'take') {
      const decision: TakeAnswer = this.limiter.take(body.key, body.limits, body.reserve);
      if (decision.allowed && body.record) {
        decision.recorded = await this.meter(body.key).recordAtAdmission(body.record, body.hold);
        if (body.hold) decision.held = decision.recorded;
      } else if (decision.allowed && body.hold) decision.held = await this.meter(body.key).hold(body.hold);
      else if (!decision.allowed && body.refused) {
        await this.meter(body.key).record([body.refused]);
        decision.recorded = true;
      }
      return Response.json(decision);
    }
    if (body.op === 'park') {
      await this.park(body.records);
      return new Response(null, { status: 204 });
    }
    if (body.op === 'record') {
      if (body.settlement) this.limiter.settle(body.settlement);
      if (body.cancels && body.records.length === 1) await this.meter(body.key).correct(body.records[0]!, body.cancels);
      else await this.meter(body.key).record(body.records);
      return new Response(null, { status: 204 });
    }
    if (body.op === 'flush') {
      await this.meterOf?.flush();
      return new Response(null, { status: 204 });
    }
    this.limiter.settle(body);
    return new Response(null, { status: 204 });
  }

  private async park(records: UsageRecord[]): Promise<void> {
    if (!this.state) throw new Error('no storage to park usage records in');
    const storage = this.state.storage;
    await storage.put(Object.fromEntries(records.map((r) => [`${PARKED}${r.id}`, r])));
    if ((await storage.getAlarm()) === null) await storage.setAlarm(Date.now() + PARKED_FLUSH_MS);
  }

  /**
   * Writes the meter's roll-up, then parked records, to D1, deleting parked ones once D1 took them; a failed write
   * is retried later, never dropped. The next alarm is the soonest of what is left.
   */
  async alarm(): Promise<void> {
    if (!this.state) return;
    await this.meterOf?.flush();
    const next = await this.flushParked();
    const soonest = this.meterOf?.hasUnwritten ? Math.min(next ?? Infinity, Date.now() + FLUSH_MS) : next;
    if (soonest !== null) await this.state.storage.setAlarm(soonest);
  }

  /** When the parked records want the alarm again (null: none left). */
  private async flushParked(): Promise<number | null> {
    if (!this.state || !this.env?.DB) return null;
    const storage = this.state.storage;
    const parked = await storage.list<UsageRecord>({ prefix: PARKED, limit: PARKED_FLUSH_RECORDS });
    if (parked.size === 0) return null;
    try {
      await new SqlBillingStore(d1Database(this.env.DB)).insertUsage([...parked.values()]);
    } catch (error) {
      const attempts = ((await storage.get<number>(ATTEMPTS)) ?? 0) + 1;
      console.error(`parked usage flush failed (attempt ${attempts}, ${parked.size} records): ${error instanceof Error ? error.message : String(error)}`);
      await storage.put({ [ATTEMPTS]: attempts });
      return Date.now() + Math.min(PARKED_MAX_BACKOFF_MS, PARKED_FLUSH_MS * 2 ** attempts);
    }
    await storage.delete([...parked.keys(), ATTEMPTS]);
    this.meterOf?.parkedWritten([...parked.values()]);
    return parked.size === PARKED_FLUSH_RECORDS ? Date.now() : null; // more are parked
  }
}

export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

/** The object that parks keyless (open mode) records. */
export const OPEN_PARKING = '(open)';

/** The billing middleware's limiter, backed by KeyRateLimiter objects, which also hold its keys' budgets. */
export class DurableKeyLimiter implements KeyLimiter {
  readonly holdsBudgets = true;
  readonly recordsAtAdmission = true;

  constructor(private readonly namespace: DurableObjectNamespaceLike) {}

  call(body: LimitRequest): Promise<Response> {
    const stub = this.namespace.get(this.namespace.idFromName(body.key));
    return stub.fetch(new Request('https://limiter.internal/', { method: 'POST', body: JSON.stringify(body) }));
  }

  async take(key: string, limits: Limits, reserveTokens = 0, hold?: BudgetHold, record?: UsageRecord, refused?: UsageRecord): Promise<TakeAnswer> {
    const response = await this.call({ op: 'take', key, limits, reserve: reserveTokens, hold, record, refused });
    if (!response.ok) throw new Error(`the rate limiter of key ${key} answered ${response.status}`);
    return (await response.json()) as TakeAnswer;
  }

  /** The call, for the calling request to keep alive (the billing middleware hands it to that request's waitUntil). */
  settle(settlement: Settlement): Promise<unknown> | void {
    if (settlement.used === settlement.reserved) return;
    return this.call({ op: 'settle', ...settlement }).catch((error: unknown) => {
      console.error(`rate limit settle failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  /** Hands a record D1 refused to its key's object (OPEN_PARKING's without a key), which writes it later. */
  async park(record: UsageRecord): Promise<void> {
    const response = await this.call({ op: 'park', key: record.keyId ?? OPEN_PARKING, records: [record] });
    if (!response.ok) throw new Error(`parking usage record ${record.id} failed: ${response.status}`);
  }
}
