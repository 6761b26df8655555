/**
 * Per-key rate limits shared by every instance of the AWS router: sliding-window counters (sliding-window.ts) in one
 * DynamoDB item per key, `rate#<key>` in the billing table, with an attribute per minute (`r<minute>` requests,
 * `t<minute>` tokens). A request costs one UpdateItem (ADD, which is atomic, returning the item); old minutes are
 * removed as new ones start and an idle key's item expires by TTL.
 *
 * If DynamoDB cannot be reached the request is allowed (and logged): limits protect capacity, and the request is
 * still authenticated and metered; refusing every request would turn a store outage into an API outage.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { limitDecision, WINDOW_MS, type KeyLimiter, type LimitDecision, type Limits, type Settlement } from '../rate-limiter.js';
import { slidingWindowState } from '../sliding-window.js';

const TTL_S = 3 * 60;
const COUNTER = /^[rt](\d+)$/;

export interface DynamoKeyLimiterOptions {
  /** Keeps the invocation alive until a background write ends (Lambda: awaited before the response completes). */
  waitUntil: (promise: Promise<unknown>) => void;
  now?: () => number;
  onError?: (error: unknown) => void;
}

export class DynamoKeyLimiter implements KeyLimiter {
  private readonly now: () => number;

  constructor(private readonly client: DynamoDBDocumentClient, private readonly table: string, private readonly options: DynamoKeyLimiterOptions) {
    this.now = options.now ?? (() => Date.now());
  }

  /** Adds to the key's counters (negative: takes back), sets its expiry from `now`, and removes the `remove` attributes. */
  private add({ key, counters, now, remove = [] }: { key: string; counters: Record<string, number>; now: number; remove?: string[] }) {
    const names = Object.fromEntries([...Object.keys(counters), ...remove].map((name, i) => [`#a${i}`, name]));
    const adds = Object.values(counters).map((_, i) => `#a${i} :v${i}`);
    const removes = remove.map((_, i) => `#a${i + adds.length}`);
    return this.client.send(new UpdateCommand({
      TableName: this.table,
      Key: { pk: `rate#${key}` },
      UpdateExpression: `ADD ${adds.join(', ')} SET expiresAt = :expires${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ...Object.fromEntries(Object.values(counters).map((v, i) => [`:v${i}`, v])), ':expires': Math.floor(now / 1000) + TTL_S },
      ReturnValues: 'ALL_NEW',
    }));
  }

  private background(work: Promise<unknown>): void {
    this.options.waitUntil(work.catch((error: unknown) => this.options.onError?.(error)));
  }

  async take(key: string, limits: Limits, reserveTokens = 0): Promise<LimitDecision> {
    const now = this.now();
    const minute = Math.floor(now / WINDOW_MS);
    const fraction = (now % WINDOW_MS) / WINDOW_MS;
    let item: Record<string, unknown>;
    try {
      const counters = reserveTokens > 0 ? { [`r${minute}`]: 1, [`t${minute}`]: reserveTokens } : { [`r${minute}`]: 1 };
      item = (await this.add({ key, counters, now, remove: [`r${minute - 2}`, `t${minute - 2}`] })).Attributes ?? {};
    } catch (error) {
      this.options.onError?.(error);
      return limitDecision(limits, { allowed: true, remainingRequests: limits.rpm, remainingTokens: limits.tpm, requestWaitMs: 0, tokenWaitMs: 0, fullRequestsMs: 0, fullTokensMs: 0 });
    }
    const count = (name: string) => (item[name] as number | undefined) ?? 0;
    const state = slidingWindowState({
      limits,
      requests: { previous: count(`r${minute - 1}`), current: count(`r${minute}`) - 1 },
      tokens: { previous: count(`t${minute - 1}`), current: count(`t${minute}`) - reserveTokens },
      fraction,
    });
    // A refused request does not count against the key.
    if (!state.allowed) this.background(this.add({ key, counters: reserveTokens > 0 ? { [`r${minute}`]: -1, [`t${minute}`]: -reserveTokens } : { [`r${minute}`]: -1 }, now }));
    // Minutes older than the previous one, left by a key that was idle when they would have been removed.
    const stale = Object.keys(item).filter((name) => Number(COUNTER.exec(name)?.[1] ?? minute) < minute - 1);
    if (stale.length > 0) this.background(this.add({ key, counters: { [`r${minute}`]: 0 }, now, remove: stale }));
    return limitDecision(limits, state);
  }

  /**
   * Extra use counts in the current minute; a refund goes back to the minute it was reserved in while that minute
   * is still inside the window (past it, the reservation no longer counts anyway).
   */
  settle({ key, used, reserved, takenAt }: Settlement): void {
    const delta = used - reserved;
    if (delta === 0) return;
    const now = this.now();
    const minute = Math.floor(now / WINDOW_MS);
    const reservedIn = Math.floor(takenAt / WINDOW_MS);
    if (delta < 0 && reservedIn < minute - 1) return;
    this.background(this.add({ key, counters: { [`t${delta > 0 ? minute : reservedIn}`]: delta }, now }));
  }
}
