/**
 * Sliding-window rate limits: a key's use over the last minute is estimated as this minute's count plus the
 * previous minute's, weighted by how much of the previous minute still lies inside the last 60 s (the estimate
 * Cloudflare's and nginx's limiters use). Two counters per limit, each updated with one atomic addition: what a
 * shared store such as DynamoDB can keep exact under concurrent requests, where a token bucket needs a
 * read-modify-write.
 */
import { WINDOW_MS, type Limits, type LimitState } from './rate-limiter.js';

export interface WindowCounts {
  previous: number;
  current: number;
}

/** Use over the last minute, `fraction` of the way through the current window. */
export const estimate = (c: WindowCounts, fraction: number) => c.previous * (1 - fraction) + c.current;

/** Milliseconds until the estimate falls to `threshold` or below, if nothing more is used. */
export function msUntilAtMost(c: WindowCounts, fraction: number, threshold: number): number {
  if (estimate(c, fraction) <= threshold) return 0;
  // Within this window only the previous minute's share decays.
  if (c.current <= threshold) return Math.ceil((1 - (threshold - c.current) / c.previous - fraction) * WINDOW_MS);
  // In the next window this minute's count becomes the decaying one.
  const into = threshold <= 0 ? 1 : 1 - threshold / c.current;
  return Math.ceil((1 - fraction + into) * WINDOW_MS);
}

/**
 * The decision for a request, from the counts before it: it needs room for one more request, and a token use
 * within the limit (tokens are counted after a request ran, so the last request may overdraw; the next ones wait).
 */
export function slidingWindowState({ limits, requests, tokens, fraction }: { limits: Limits; requests: WindowCounts; tokens: WindowCounts; fraction: number }): LimitState {
  const allowed = estimate(requests, fraction) + 1 <= limits.rpm && estimate(tokens, fraction) <= limits.tpm;
  const after = allowed ? { ...requests, current: requests.current + 1 } : requests;
  return {
    allowed,
    remainingRequests: limits.rpm - estimate(after, fraction),
    remainingTokens: limits.tpm - estimate(tokens, fraction),
    requestWaitMs: msUntilAtMost(after, fraction, limits.rpm - 1),
    tokenWaitMs: msUntilAtMost(tokens, fraction, limits.tpm),
    fullRequestsMs: msUntilAtMost(after, fraction, 0),
    fullTokensMs: msUntilAtMost(tokens, fraction, 0),
  };
}
