/**
 * One API key's metering inside its Durable Object (KeyRateLimiter), the single place every isolate and location
 * that serves the key reaches, so it can count and reserve exactly without a D1 write per request:
 * - Usage: each request's record is added to an in-memory roll-up (usage-rollup.ts: per minute, model, route and
 *   status), written to D1 as one row per group by the object's alarm FLUSH_MS after the first record it holds, or
 *   at once past FLUSH_REQUESTS. A batch keeps its ids until D1 took it; a batch D1 refused is parked in the object's
 *   durable storage and written by later alarms with backoff (key-rate-limiter.ts), idempotent per id.
 * - Budgets: a request's hold is reserved here against the key's month as D1 has it (read at most every
 *   SPENT_FRESH_MS and after each flush) plus what this object counted and has not written yet plus the holds in
 *   flight; the request's record releases it. One writer per key, so the check and the hold are one step.
 * - Duplicates: a record whose id this instance counted already (a retried call) is counted once.
 * - Records at admission: a classification's record comes with its take and is counted then (recordAtAdmission),
 *   its cost checked against the budget as a hold would be; one that ended otherwise is taken back (correct): its
 *   negative nets it out in the batch that holds it, or is a row of its own (requests -1) once that batch is written.
 * What a reset loses: the object's memory holds at most FLUSH_MS of the key's records. An idle object is evicted
 * only after 10 s without events (Cloudflare's hibernation rule), after its alarm flushed; a crash or a deploy
 * between a record and its flush loses those records (at most FLUSH_MS of them), and a retried call that reaches a
 * new instance after its flush is counted again. docs/billing.md says what that bounds.
 */
import { ABANDONED_AFTER_MS, monthOf } from '../billing/month.js';
import { SqlBillingStore } from '../billing/sql-billing-store.js';
import type { BudgetHold, UsageRecord } from '../billing/types.js';
import { cancelled, UsageRollup } from '../billing/usage-rollup.js';
import { d1Database, type D1Database } from './d1-database.js';

/** The longest a counted record waits in memory for its flush (well under the 10 s after which an idle object goes). */
export const FLUSH_MS = 5_000;
/** A roll-up this many requests large is flushed at once. */
export const FLUSH_REQUESTS = 1_000;
/** How long the key's month read from D1 is trusted for budget checks (fine-tuning jobs also write it). */
export const SPENT_FRESH_MS = 10_000;
/** Record ids remembered against a retried call. */
const SEEN_MAX = 20_000;

export interface MeterStorage {
  setAlarm(scheduledTime: number): Promise<void>;
}

export class KeyUsageMeter {
  private readonly rollup = new UsageRollup();
  /** A batch taken from the roll-up that D1 has not confirmed yet (its cost still counts against the budget). */
  private writing: { rows: UsageRecord[]; costMicroUsd: number } | null = null;
  private readonly holds = new Map<string, { microUsd: number; at: number }>();
  private spent: { month: string; microUsd: number; readAt: number } | null = null;
  /** The cost of batches this instance parked (D1 refused them) that are not written yet. */
  private parkedMicroUsd = 0;
  private readonly seen = new Set<string>();
  /** Distinct per instance, so that two instances' batches never share an id. */
  private readonly instance = `${Date.now().toString(36)}${crypto.randomUUID().slice(0, 8)}`;
  private batches = 0;
  /** When this instance last set the alarm for its roll-up (null: not since its last flush). */
  private alarmAt: number | null = null;

  constructor(
    private readonly keyId: string,
    private readonly storage: MeterStorage,
    private readonly db: D1Database | undefined,
    /** Where a batch goes when D1 refused it (the object's durable storage, written later by its alarm). */
    private readonly park: (rows: UsageRecord[]) => Promise<void>,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Requests counted and not yet written to D1 (tests, the bench). */
  get unwritten(): number {
    return this.rollup.requests + (this.writing?.rows.reduce((n, r) => n + (r.requests ?? 1), 0) ?? 0);
  }

  /** Whether rows are counted and not yet written (a cancellation's row counts no request but is one). */
  get hasUnwritten(): boolean {
    return this.rollup.size > 0 || this.writing !== null;
  }

  private async monthSpent(at: number): Promise<number> {
    const month = monthOf(at);
    if (!this.spent || this.spent.month !== month || this.now() - this.spent.readAt > SPENT_FRESH_MS) {
      const readAt = this.now();
      const microUsd = this.db ? await new SqlBillingStore(d1Database(this.db)).spentSince(this.keyId, Date.parse(`${month}-01T00:00:00Z`)) : 0;
      this.spent = { month, microUsd, readAt };
    }
    return this.spent.microUsd;
  }

  /** Whether the month's spend, what is counted and unwritten, the holds in flight and `h` fit the budget (no await: callers act on it in the same step). */
  private fits(h: BudgetHold, spent: number): boolean {
    let held = 0;
    for (const [id, hold] of this.holds) {
      if (hold.at < this.now() - ABANDONED_AFTER_MS) this.holds.delete(id); // its request can no longer be running
      else held += hold.microUsd;
    }
    const unwritten = this.rollup.costMicroUsd + (this.writing?.costMicroUsd ?? 0) + this.parkedMicroUsd;
    return spent + unwritten + held + h.microUsd <= h.budgetMicroUsd;
  }

  /** Reserves the hold if the month's spend, what is counted and unwritten, the holds in flight and it fit the budget. */
  async hold(h: BudgetHold): Promise<boolean> {
    const spent = await this.monthSpent(h.at);
    // From here to the end no await: the check and the hold are one step for this key.
    if (!this.fits(h, spent)) return false;
    this.holds.set(h.id, { microUsd: h.microUsd, at: h.at });
    return true;
  }

  /**
   * A request admitted with its record (a classification, whose record is known before its model runs): counted
   * now, in place of a hold (its cost counts against the budget as unwritten usage), if `hold` fits the budget.
   */
  async recordAtAdmission(record: UsageRecord, hold?: BudgetHold): Promise<boolean> {
    const spent = hold ? await this.monthSpent(hold.at) : 0;
    // No await from the check to the count: one step for this key.
    if (hold && !this.fits(hold, spent)) return false;
    this.count([record]);
    await this.scheduleFlush();
    return true;
  }

  /**
   * A request recorded at admission that ended otherwise (its model failed, the client left, a later check refused
   * it): `cancels` is taken back (cancelled(): netted in the batch that holds it, else a row of its own) and `record`
   * counted, once per request however often the call is retried. Its record was counted by this instance, or by
   * one before it whose roll-up was flushed (an object goes idle only after its alarm): either way it is in the sums.
   */
  async correct(record: UsageRecord, cancels: UsageRecord): Promise<void> {
    const mark = `${record.id}~corrected`;
    if (!this.seen.has(mark)) {
      this.remember(mark);
      this.remember(record.id);
      this.rollup.add(cancelled(cancels));
      this.rollup.add(record);
    }
    await this.scheduleFlush();
  }

  private remember(id: string): void {
    if (this.seen.size >= SEEN_MAX) this.seen.clear();
    this.seen.add(id);
  }

  private count(records: UsageRecord[]): void {
    for (const record of records) {
      this.holds.delete(record.id);
      if (this.seen.has(record.id)) continue;
      this.remember(record.id);
      this.rollup.add(record);
    }
  }

  /** Counts the records (each once) and releases their holds; the alarm writes them. */
  async record(records: UsageRecord[]): Promise<void> {
    this.count(records);
    await this.scheduleFlush();
  }

  private async scheduleFlush(): Promise<void> {
    if (this.rollup.requests >= FLUSH_REQUESTS) await this.setAlarm(this.now());
    else if (this.rollup.size > 0) await this.setAlarm(this.now() + FLUSH_MS); // a cancellation's row too
  }

  /** Sets the alarm for `at` unless this instance set it for then or sooner since its last flush. */
  private async setAlarm(at: number): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.storage.setAlarm(at);
  }

  /** Parked records D1 took since (the object's alarm wrote them): D1's month holds them now. */
  parkedWritten(records: UsageRecord[]): void {
    this.parkedMicroUsd = Math.max(0, this.parkedMicroUsd - records.reduce((sum, r) => sum + r.costMicroUsd, 0));
    this.spent = null;
  }

  /** Called by the object's alarm: writes what is counted; a batch D1 refused is parked, never dropped. */
  async flush(): Promise<void> {
    this.alarmAt = null;
    if (this.writing || this.rollup.size === 0) return; // a flush in progress takes the rest next time
    const costMicroUsd = this.rollup.costMicroUsd;
    const rows = this.rollup.take(`ru_${this.instance}_${++this.batches}`);
    this.writing = { rows, costMicroUsd };
    try {
      if (!this.db) throw new Error('no D1 binding to write usage to');
      await new SqlBillingStore(d1Database(this.db)).insertUsage(rows);
      this.spent = null; // D1's month now holds the batch: read it again at the next budget check
    } catch (error) {
      console.error(`usage roll-up flush failed (${rows.length} rows), parked: ${error instanceof Error ? error.message : String(error)}`);
      await this.park(rows);
      this.parkedMicroUsd += costMicroUsd;
    } finally {
      this.writing = null;
    }
  }
}
