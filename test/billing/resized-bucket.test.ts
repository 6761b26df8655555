// A key's limit changed while its bucket is in use (PATCH /admin/keys): the bucket keeps what the key used this
// window, on a clock the test moves, so a lower limit is not a fresh full bucket and a higher one adds only the difference.
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../functions/billing/rate-limiter.js';

const admitted = (limiter: RateLimiter, rpm: number, tries: number) =>
  Array.from({ length: tries }, () => limiter.take('k', { rpm, tpm: 1000 })).filter((d) => d.allowed).length;

describe('a rate-limit bucket whose limit changes', () => {
  it('lowered from 100 to 5 after 3 requests, admits 2 more in that minute, then refills at the new rate', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    expect(admitted(limiter, 100, 3)).toBe(3);
    expect(admitted(limiter, 5, 10)).toBe(2);
    now += 12_000; // one request's worth at 5 a minute
    expect(admitted(limiter, 5, 10)).toBe(1);
  });

  it('raised from 5 to 100 once the 5 are used, admits the 95 it adds, not a full 100', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    expect(admitted(limiter, 5, 10)).toBe(5);
    expect(admitted(limiter, 100, 200)).toBe(95);
  });

  it('keeps the tokens used (and owed) when tpm is lowered', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    expect(limiter.take('k', { rpm: 100, tpm: 10_000 }, 4_000).allowed).toBe(true);
    const lowered = limiter.take('k', { rpm: 100, tpm: 3_000 });
    // 4,000 used of a new 3,000: the balance is 1,000 short, which takes 20 s at 3,000 a minute.
    expect(lowered).toMatchObject({ allowed: false, remainingTokens: 0, tokenWaitMs: 20_000 });
    now += 20_000;
    expect(limiter.take('k', { rpm: 100, tpm: 3_000 }).allowed).toBe(true);
  });
});
