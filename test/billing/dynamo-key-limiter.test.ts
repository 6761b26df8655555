/** Rate limits shared by router instances through DynamoDB (two limiter objects = two Lambda instances). */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoKeyLimiter } from '../../functions/billing/dynamo/dynamo-key-limiter.js';
import { rateLimitHeaders } from '../../functions/billing/rate-limit-headers.js';
import { msUntilAtMost, slidingWindowState, type WindowCounts } from '../../functions/billing/sliding-window.js';
import { startLocalDynamo, type LocalDynamo } from './local-dynamodb.js';

const MINUTE = 60_000;
const T0 = 29_000_000 * MINUTE; // the start of a minute

describe('sliding-window estimate', () => {
  const limits = { rpm: 10, tpm: 1000 };
  const state = (requests: WindowCounts, tokens: WindowCounts, fraction: number) => slidingWindowState({ limits, requests, tokens, fraction });

  it('counts the previous minute by the share of it still inside the last 60 s', () => {
    expect(state({ previous: 10, current: 0 }, { previous: 0, current: 0 }, 0.05).allowed).toBe(false);
    const half = state({ previous: 10, current: 4 }, { previous: 0, current: 0 }, 0.5);
    expect(half).toMatchObject({ allowed: true, remainingRequests: 0 });
    expect(state({ previous: 10, current: 5 }, { previous: 0, current: 0 }, 0.5).allowed).toBe(false);
  });

  it('refuses once the tokens are spent, and says when each limit has room again', () => {
    const spent = state({ previous: 0, current: 1 }, { previous: 0, current: 1500 }, 0.25);
    expect(spent.allowed).toBe(false);
    // 1,500 tokens this minute: 1,000 is within the limit again a third of the way into the next minute.
    expect(spent.tokenWaitMs).toBeGreaterThanOrEqual(65_000);
    expect(spent.tokenWaitMs).toBeLessThanOrEqual(65_001); // rounded up to the next millisecond
    expect(msUntilAtMost({ previous: 10, current: 4 }, 0.5, 4)).toBe(0.5 * MINUTE);
    expect(msUntilAtMost({ previous: 0, current: 3 }, 0.5, 0)).toBe(1.5 * MINUTE);
    expect(msUntilAtMost({ previous: 2, current: 0 }, 0.5, 5)).toBe(0);
  });
});

describe('DynamoDB rate limiter', () => {
  let dynamo: LocalDynamo;
  let clock = T0;
  const pending: Promise<unknown>[] = [];
  const instance = () => new DynamoKeyLimiter(dynamo.client, dynamo.tables.billing, { waitUntil: (p) => pending.push(p), now: () => clock });
  const settle = async () => {
    while (pending.length) await pending.shift();
  };
  /** Two router instances over one table, with the clock set to `ms` after T0. */
  const twoInstancesAt = (ms: number) => {
    clock = T0 + ms;
    return [instance(), instance()] as const;
  };

  beforeAll(async () => {
    dynamo = await startLocalDynamo();
  });
  afterAll(async () => dynamo?.close());

  it('shares one limit between instances, exactly, under concurrent requests', async () => {
    const [a, b] = twoInstancesAt(1_000);
    const decisions = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).take('key_conc', { rpm: 20, tpm: 1000 })));
    await settle();
    expect(decisions.filter((d) => d.allowed)).toHaveLength(20);
    const refused = rateLimitHeaders(decisions.find((d) => !d.allowed)!);
    expect(refused).toMatchObject({ 'x-ratelimit-limit-requests': '20', 'x-ratelimit-remaining-requests': '0' });
    expect(Number(refused['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect(refused.RateLimit).toMatch(/^"requests";r=0;t=\d+, "tokens";r=1000;t=0$/);
  });

  it('lets requests through again as the minute slides, and does not count refused ones', async () => {
    const [a, b] = twoInstancesAt(10 * MINUTE);
    const limits = { rpm: 4, tpm: 1000 };
    for (let i = 0; i < 4; i++) expect((await a.take('key_slide', limits)).allowed).toBe(true);
    for (let i = 0; i < 3; i++) expect((await b.take('key_slide', limits)).allowed).toBe(false);
    await settle();
    // Half-way into the next minute the previous one weighs 4 * 0.5 = 2: two more fit, not three.
    clock = T0 + 11.5 * MINUTE;
    expect((await b.take('key_slide', limits)).allowed).toBe(true);
    expect((await a.take('key_slide', limits)).allowed).toBe(true);
    expect((await b.take('key_slide', limits)).allowed).toBe(false);
    await settle();
  });

  it('refuses a key whose tokens one instance spent, on the other instance', async () => {
    const [a, b] = twoInstancesAt(20 * MINUTE);
    const limits = { rpm: 100, tpm: 500 };
    expect((await a.take('key_tokens', limits)).allowed).toBe(true);
    a.settle({ key: 'key_tokens', limits, used: 800, reserved: 0, takenAt: clock });
    await settle();
    const refused = await b.take('key_tokens', limits);
    expect(refused.allowed).toBe(false);
    expect(rateLimitHeaders(refused)['x-ratelimit-remaining-tokens']).toBe('0');
    clock = T0 + 22 * MINUTE;
    expect((await b.take('key_tokens', limits)).allowed).toBe(true);
    await settle();
  });

  it('reserves tokens at admission, so concurrent requests on two instances cannot all pass a token limit', async () => {
    const [a, b] = twoInstancesAt(25 * MINUTE);
    const limits = { rpm: 100, tpm: 500 };
    const decisions = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).take('key_reserve', limits, 200)));
    // Each sees the reservations before it: 0, 200 and 400 are within 500; the rest are refused and not counted.
    expect(decisions.filter((d) => d.allowed)).toHaveLength(3);
    await settle();
    // The three used 50 each: the refund lets more in at once.
    for (let i = 0; i < 3; i++) a.settle({ key: 'key_reserve', limits, used: 50, reserved: 200, takenAt: clock });
    await settle();
    expect((await b.take('key_reserve', limits, 200)).allowed).toBe(true);
    expect((await b.take('key_reserve', limits, 200)).allowed).toBe(true);
    expect((await a.take('key_reserve', limits, 200)).allowed).toBe(false);
    await settle();
  });

  it('keeps only the current and previous minute in the key\'s item, which expires when the key is idle', async () => {
    const limiter = instance();
    clock = T0 + 30 * MINUTE;
    await limiter.take('key_tidy', { rpm: 10, tpm: 10 });
    limiter.settle({ key: 'key_tidy', limits: { rpm: 10, tpm: 10 }, used: 3, reserved: 0, takenAt: clock });
    await settle();
    clock = T0 + 45 * MINUTE + 1;
    await limiter.take('key_tidy', { rpm: 10, tpm: 10 });
    await settle();
    const { Item } = await dynamo.client.send(new GetCommand({ TableName: dynamo.tables.billing, Key: { pk: 'rate#key_tidy' }, ConsistentRead: true }));
    const minute = Math.floor(clock / MINUTE);
    expect(Object.keys(Item!).sort()).toEqual(['expiresAt', 'pk', `r${minute}`]);
    expect(Item!.expiresAt).toBe(Math.floor(clock / 1000) + 180);
  });

  it('allows requests, and says why in the log, when DynamoDB cannot be reached', async () => {
    const errors: unknown[] = [];
    const offline = new DynamoKeyLimiter(dynamo.client, 'no-such-table', { waitUntil: (p) => pending.push(p), onError: (e) => errors.push(e) });
    expect((await offline.take('key_x', { rpm: 1, tpm: 1 })).allowed).toBe(true);
    expect(errors).toHaveLength(1);
  });
});
