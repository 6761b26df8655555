/**
 * Per-key token buckets for requests per minute and tokens per minute, in memory (one Node process). A request
 * needs one request token and a non-negative token balance; it reserves the most tokens it can use when admitted
 * (so that concurrent requests see each other) and settles the difference when it ends.
 */
import type { BudgetHold, UsageRecord } from './types.js';

export interface Limits {
  rpm: number;
  tpm: number;
}

interface Bucket {
  level: number;
  at: number;
  /** The limit the bucket was last sized for. */
  capacity: number;
}

/** A request's tokens when it ended: `used` replaces the `reserved` that take debited at `takenAt`. */
export interface Settlement {
  key: string;
  limits: Limits;
  used: number;
  reserved: number;
  takenAt: number;
}

/** In memory (Node, one process), in a Durable Object per key (Workers) or in DynamoDB (AWS): shared across instances. */
export interface KeyLimiter {
  /**
   * Admits one request if the key has room, reserving `reserveTokens` of its token limit. A limiter that
   * `holdsBudgets` (the edge's key objects) also reserves `hold` of the key's budget in the same step and answers
   * `held`; the others leave budgets to the billing store. A limiter that `recordsAtAdmission` also counts `record`
   * (the request's usage record as it will be if served as admitted) when it admits the request and its budget
   * holds it, and answers `recorded`: the request then needs no second call unless it ends otherwise; `refused`
   * is counted instead when the limits refuse the request (its 429), and answers `recorded` too.
   */
  take(key: string, limits: Limits, reserveTokens?: number, hold?: BudgetHold, record?: UsageRecord, refused?: UsageRecord): TakeDecision | Promise<TakeDecision>;
  readonly holdsBudgets?: boolean;
  readonly recordsAtAdmission?: boolean;
  settle(settlement: Settlement): void | Promise<unknown>;
}

/** A take's answer: the decision and, where asked, whether the budget held the request and its record was counted. */
export type TakeDecision = LimitDecision & { held?: boolean; recorded?: boolean };

export const WINDOW_MS = 60_000;

/** What a limiter found for one request, in milliseconds and (possibly fractional) requests and tokens. */
export interface LimitState {
  allowed: boolean;
  remainingRequests: number;
  remainingTokens: number;
  /** Until one more request would be allowed, and until the token balance is non-negative again. */
  requestWaitMs: number;
  tokenWaitMs: number;
  /** Until the limits are whole again. */
  fullRequestsMs: number;
  fullTokensMs: number;
}

/**
 * What a limiter decided for one request (rate-limit-headers.ts tells the client): its state, with the remaining
 * requests and tokens in whole units, never below zero.
 */
export interface LimitDecision extends LimitState {
  limits: Limits;
  /** Whole seconds until a refused request may succeed; 0 when allowed. */
  retryAfterSeconds: number;
}

/** The decision for a limiter's state: remaining room in whole units, and when a refused request may retry. */
export function limitDecision(limits: Limits, s: LimitState): LimitDecision {
  return {
    ...s,
    limits,
    retryAfterSeconds: s.allowed ? 0 : Math.max(1, Math.ceil(Math.max(s.requestWaitMs, s.tokenWaitMs) / 1000)),
    remainingRequests: Math.max(0, Math.floor(s.remainingRequests)),
    remainingTokens: Math.max(0, Math.floor(s.remainingTokens)),
  };
}

function refill(bucket: Bucket, capacity: number, now: number): void {
  bucket.level = Math.min(capacity, bucket.level + ((now - bucket.at) * capacity) / WINDOW_MS);
  bucket.at = now;
}

const msUntil = (missing: number, capacity: number) => Math.ceil((missing * WINDOW_MS) / capacity);

export class RateLimiter implements KeyLimiter {
  private readonly requests = new Map<string, Bucket>();
  private readonly tokens = new Map<string, Bucket>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /**
   * A key's bucket at its limit now. A changed limit (PATCH /admin/keys) keeps what the key used: the bucket refills
   * at the old rate up to now, then is resized by the difference, so lowering rpm from 100 to 5 after 3 requests
   * leaves room for 2, not a full bucket of 5 (DynamoDB's per-minute counts agree), and raising it adds the new room.
   */
  private bucket(map: Map<string, Bucket>, key: string, capacity: number): Bucket {
    const now = this.now();
    let bucket = map.get(key);
    if (!bucket) map.set(key, (bucket = { level: capacity, at: now, capacity }));
    refill(bucket, bucket.capacity, now);
    if (bucket.capacity !== capacity) {
      bucket.level += capacity - bucket.capacity;
      bucket.capacity = capacity;
    }
    return bucket;
  }

  take(key: string, limits: Limits, reserveTokens = 0): LimitDecision {
    const requests = this.bucket(this.requests, key, limits.rpm);
    const tokens = this.bucket(this.tokens, key, limits.tpm);
    const allowed = requests.level >= 1 && tokens.level >= 0;
    if (allowed) {
      requests.level -= 1;
      tokens.level -= reserveTokens;
    }
    const requestWaitMs = requests.level >= 1 ? 0 : msUntil(1 - requests.level, limits.rpm);
    const tokenWaitMs = tokens.level >= 0 ? 0 : msUntil(-tokens.level, limits.tpm);
    return limitDecision(limits, {
      allowed,
      remainingRequests: requests.level,
      remainingTokens: tokens.level,
      requestWaitMs,
      tokenWaitMs,
      fullRequestsMs: msUntil(limits.rpm - requests.level, limits.rpm),
      fullTokensMs: msUntil(limits.tpm - tokens.level, limits.tpm),
    });
  }

  /** The balance may go below zero (the next requests wait) or back up (a refund of what was not used). */
  settle({ key, limits, used, reserved }: Settlement): void {
    if (used === reserved) return;
    const bucket = this.bucket(this.tokens, key, limits.tpm);
    bucket.level = Math.min(limits.tpm, bucket.level - (used - reserved));
  }
}
