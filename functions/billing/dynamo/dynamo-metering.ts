/**
 * Rate limits and metering on DynamoDB in as few writes as a request allows (issue 16): the key's minute item
 * (rollup-items.ts) is its rate-limit counter and its usage roll-up. A classification whose record is known at
 * admission (UsageEstimate.served) and whose key holds no budget for it is taken and recorded in one UpdateItem:
 * one write unit, one round trip, nothing written when it ends as admitted. Everything else (streams, refusals,
 * requests that end otherwise, keys whose budget holds them) is taken in that item and recorded as its own usage
 * item at its end (DynamoBillingStore.insertUsage, one per request, conditional on its id).
 *
 * Sliding window as dynamo-key-limiter.ts: the minute's counts come back from the take itself (ADD is atomic, so
 * instances share the limit exactly), the previous minute's are read beside it (eventually consistent, in parallel;
 * once per process and minute after its first seconds, when it no longer changes). If DynamoDB cannot be reached a
 * request is allowed and logged (limits protect capacity) and recorded at its end, as any other.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { limitDecision, WINDOW_MS, type KeyLimiter, type LimitDecision, type Limits, type Settlement } from '../rate-limiter.js';
import { slidingWindowState } from '../sliding-window.js';
import type { BudgetHold, UsageRecord } from '../types.js';
import type { UsageSink } from '../usage-writer.js';
import { isConditionFailure } from './dynamo-client.js';
import { minuteOf, rollupKey, rollupUpdateParams, type RollupUpdate } from './rollup-items.js';
import { WriterLanes } from './writer-lanes.js';

/** After this far into a minute the previous one no longer changes: its counts are kept for the rest of it. */
const PREVIOUS_SETTLED_MS = 2_000;
const ATTEMPTS = 3;

export interface DynamoMeteringOptions {
  /** The usage table, where the minute items live. */
  table: string;
  /** Reserves budget holds (DynamoBillingStore.holdBudget). */
  holdBudget: (hold: BudgetHold) => Promise<boolean>;
  /** Where the records not counted at admission go (a UsageWriter over DynamoBillingStore). */
  writer: UsageSink;
  /** Keeps the invocation alive until a background write ends (Lambda: awaited before the response completes). */
  waitUntil: (promise: Promise<unknown>) => void;
  now?: () => number;
  onError?: (error: unknown) => void;
}

type Counts = { r: number; t: number };
/** The decision, whether the budget held the request, and whether its record was counted with it. */
type TakeDecision = LimitDecision & { held?: boolean; recorded?: boolean };
type Written = { item: Record<string, unknown> | undefined } | { error: unknown; undo: () => Promise<unknown> };

export class DynamoMetering implements KeyLimiter, UsageSink {
  readonly holdsBudgets = true;
  readonly recordsAtAdmission = true;
  readonly settlesLimits = true;
  private readonly now: () => number;
  private readonly lanes = new WriterLanes();
  private readonly previous = new Map<string, { minute: number; counts: Counts }>();

  constructor(private readonly client: DynamoDBDocumentClient, private readonly o: DynamoMeteringOptions) {
    this.now = o.now ?? (() => Date.now());
  }

  private background(work: Promise<unknown>): void {
    this.o.waitUntil(work.catch((error: unknown) => this.o.onError?.(error)));
  }

  /** One update of a key's minute on a lane of its own; the same write again (same sequence) while it fails. */
  private async update(keyId: string, tenantId: string | null, minute: number, change: Omit<RollupUpdate, 'lane' | 'seq'>, returnItem = false, attempts = ATTEMPTS): Promise<Written> {
    const lane = this.lanes.acquire();
    const seq = lane.next();
    const send = () => this.client.send(new UpdateCommand({
      TableName: this.o.table, Key: rollupKey(keyId, minute), ...rollupUpdateParams(keyId, tenantId, minute, { ...change, lane: lane.id, seq }),
      ReturnValues: returnItem ? 'ALL_NEW' : 'NONE',
    }));
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return { item: (await send()).Attributes };
        } catch (error) {
          // An earlier sending of this very write was applied (the SDK retries after a lost answer): done once.
          if (isConditionFailure(error)) return { item: returnItem ? await this.read(keyId, minute, true) : undefined };
          if (attempt >= attempts) return { error, undo: () => this.undoIfApplied(keyId, tenantId, minute, change, lane, seq) };
          await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
        }
      }
    } finally {
      lane.next(); // a write after this one (the undo) carries a higher number
      this.lanes.release(lane);
    }
  }

  /** Takes back a write whose every sending failed, if one of them was applied after all (the lane's mark says so). */
  private undoIfApplied(keyId: string, tenantId: string | null, minute: number, change: Omit<RollupUpdate, 'lane' | 'seq'>, lane: { id: string }, seq: number) {
    const negative: Omit<RollupUpdate, 'lane' | 'seq'> = {
      requests: -(change.requests ?? 0), tokens: -(change.tokens ?? 0), records: change.records?.map((r) => ({ record: r.record, sign: r.sign === 1 ? -1 : 1 })),
    };
    return this.client.send(new UpdateCommand({
      TableName: this.o.table, Key: rollupKey(keyId, minute), ...rollupUpdateParams(keyId, tenantId, minute, { ...negative, lane: lane.id, seq: seq + 1, onlyAfter: seq }),
    })).catch((error: unknown) => {
      if (!isConditionFailure(error)) throw error; // not applied: nothing to take back
    });
  }

  private async read(keyId: string, minute: number, consistent: boolean): Promise<Record<string, unknown> | undefined> {
    return (await this.client.send(new GetCommand({ TableName: this.o.table, Key: rollupKey(keyId, minute), ConsistentRead: consistent }))).Item;
  }

  private async previousCounts(keyId: string, minute: number, now: number): Promise<Counts> {
    const kept = this.previous.get(keyId);
    if (kept?.minute === minute - WINDOW_MS) return kept.counts;
    const item = await this.read(keyId, minute - WINDOW_MS, false);
    const counts = { r: (item?.r as number | undefined) ?? 0, t: (item?.t as number | undefined) ?? 0 };
    if (now - minute >= PREVIOUS_SETTLED_MS) this.previous.set(keyId, { minute: minute - WINDOW_MS, counts });
    return counts;
  }

  async take(key: string, limits: Limits, reserveTokens = 0, hold?: BudgetHold, record?: UsageRecord, refused?: UsageRecord): Promise<TakeDecision> {
    const now = this.now();
    const minute = minuteOf(now);
    // Recorded now only where no budget holds it (a hold is in the key's month, another item, settled by its record)
    // and in the minute it is dated in, so that taking it back finds it.
    const early = record !== undefined && hold === undefined && minuteOf(record.createdAt) === minute ? record : undefined;
    const change = { requests: 1, tokens: reserveTokens, records: early ? [{ record: early, sign: 1 as const }] : [] };
    const [taken, previous] = await Promise.all([
      this.update(key, early?.tenantId ?? null, minute, change, true),
      this.previousCounts(key, minute, now).catch(() => ({ r: 0, t: 0 })),
    ]);
    if ('error' in taken) {
      this.o.onError?.(taken.error);
      this.background(taken.undo());
      const allowed = limitDecision(limits, { allowed: true, remainingRequests: limits.rpm, remainingTokens: limits.tpm, requestWaitMs: 0, tokenWaitMs: 0, fullRequestsMs: 0, fullTokensMs: 0 });
      return { ...allowed, held: hold ? await this.o.holdBudget(hold) : undefined, recorded: false };
    }
    const count = (name: 'r' | 't') => (taken.item?.[name] as number | undefined) ?? 0;
    const state = slidingWindowState({
      limits,
      requests: { previous: previous.r, current: count('r') - 1 },
      tokens: { previous: previous.t, current: count('t') - reserveTokens },
      fraction: (now - minute) / WINDOW_MS,
    });
    const decision = limitDecision(limits, state);
    if (!state.allowed) {
      // A refused request does not count against the key. Its 429 record, where the caller knows it, is counted in
      // the same write that takes the request back (awaited, so that `recorded` is true only once it is written);
      // otherwise it is recorded at its end.
      const counted = refused !== undefined && minuteOf(refused.createdAt) === minute ? refused : undefined;
      // Taking back a counted record must not give up soon (about 2 s of retries of the same write, which applies once).
      const undo = this.update(key, early?.tenantId ?? counted?.tenantId ?? null, minute, {
        requests: -1, tokens: -reserveTokens, records: [...(early ? [{ record: early, sign: -1 as const }] : []), ...(counted ? [{ record: counted, sign: 1 as const }] : [])],
      }, false, early || counted ? 8 : ATTEMPTS);
      if (!counted) {
        this.background(undo.then((r) => { if ('error' in r) throw r.error; }));
        return { ...decision, recorded: false };
      }
      const undone = await undo;
      if ('error' in undone) {
        // DynamoDB down for seconds: recorded at its end instead, and logged (onError). What the failed write may
        // have applied is taken back, so the request counts as it did after its take.
        this.o.onError?.(undone.error);
        this.background(undone.undo());
        return { ...decision, recorded: false };
      }
      return { ...decision, recorded: true };
    }
    return { ...decision, held: hold ? await this.o.holdBudget(hold) : undefined, recorded: early !== undefined };
  }

  /**
   * Extra use counts in the current minute; a refund goes back to the minute it was reserved in while that minute
   * is still inside the window (past it, the reservation no longer counts anyway).
   */
  settle({ key, used, reserved, takenAt }: Settlement): void {
    const delta = used - reserved;
    if (delta === 0) return;
    const minute = minuteOf(this.now());
    const reservedIn = minuteOf(takenAt);
    if (delta < 0 && reservedIn < minute - WINDOW_MS) return;
    this.background(this.update(key, null, delta > 0 ? minute : reservedIn, { tokens: delta }).then((r) => { if ('error' in r) throw r.error; }));
  }

  /**
   * A request's record at its end: its token settlement in the key's minute, the record counted at its admission
   * taken back where it ended otherwise (`cancels`), and the record itself written as its own usage item.
   */
  record(record: UsageRecord, settlement?: Settlement | null, cancels?: UsageRecord): void {
    if (settlement) this.settle(settlement);
    if (cancels?.keyId) {
      this.background(this.update(cancels.keyId, cancels.tenantId, minuteOf(cancels.createdAt), { records: [{ record: cancels, sign: -1 }] })
        .then((r) => { if ('error' in r) throw r.error; }));
    }
    return this.o.writer.record(record) as void;
  }

  /** Records queued and not yet written (the metrics' backlog gauge). */
  get backlog(): number {
    const writer = this.o.writer as UsageSink & { backlog?: number };
    return typeof writer.backlog === 'number' ? writer.backlog : 0;
  }

  flush(): Promise<void> {
    return this.o.writer.flush();
  }

  close(): Promise<void> {
    return this.o.writer.close();
  }
}
