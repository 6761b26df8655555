/**
 * Per-key token buckets for requests per minute and tokens per minute, in memory (one Node process). A request
 * needs one request token and a non-negative token balance; it reserves the most tokens it can use when admitted
 * (so that concurrent requests see each other) and settles the difference when it ends.
 */
export interface Limits {
  rpm: number;
  tpm: number;
}

interface Bucket {
  level: number;
  at: number;
}

/** In memory (Node, one process), in a Durable Object per key (Workers) or in DynamoDB (AWS): shared across instances. */
export interface KeyLimiter {
  /** Admits one request if the key has room, reserving `reserveTokens` of its token limit. */
  take(key: string, limits: Limits, reserveTokens?: number): LimitDecision | Promise<LimitDecision>;
  /** A request's tokens when it ended: `used` replaces the `reserved` that take debited at `takenAt`. */
  settle(key: string, limits: Limits, used: number, reserved: number, takenAt: number): void | Promise<unknown>;
}

export interface LimitDecision {
  allowed: boolean;
  retryAfterSeconds: number;
  headers: Record<string, string>;
}

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

/** The answer and its headers: IETF RateLimit / RateLimit-Policy, OpenAI's x-ratelimit-*, Retry-After on refusal. */
export function limitDecision(limits: Limits, s: LimitState): LimitDecision {
  const retryAfterSeconds = s.allowed ? 0 : Math.max(1, Math.ceil(Math.max(s.requestWaitMs, s.tokenWaitMs) / 1000));
  const remainingRequests = Math.max(0, Math.floor(s.remainingRequests));
  const remainingTokens = Math.max(0, Math.floor(s.remainingTokens));
  return {
    allowed: s.allowed,
    retryAfterSeconds,
    headers: {
      'RateLimit-Policy': `"requests";q=${limits.rpm};w=60, "tokens";q=${limits.tpm};w=60`,
      RateLimit: `"requests";r=${remainingRequests};t=${Math.ceil(s.requestWaitMs / 1000)}, "tokens";r=${remainingTokens};t=${Math.ceil(s.tokenWaitMs / 1000)}`,
      'x-ratelimit-limit-requests': String(limits.rpm),
      'x-ratelimit-remaining-requests': String(remainingRequests),
      'x-ratelimit-reset-requests': `${Math.ceil(s.fullRequestsMs)}ms`,
      'x-ratelimit-limit-tokens': String(limits.tpm),
      'x-ratelimit-remaining-tokens': String(remainingTokens),
      'x-ratelimit-reset-tokens': `${Math.ceil(s.fullTokensMs)}ms`,
      ...(s.allowed ? {} : { 'Retry-After': String(retryAfterSeconds) }),
    },
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

  private bucket(map: Map<string, Bucket>, key: string, capacity: number): Bucket {
    let bucket = map.get(key);
    if (!bucket) map.set(key, (bucket = { level: capacity, at: this.now() }));
    refill(bucket, capacity, this.now());
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
  settle(key: string, limits: Limits, used: number, reserved: number): void {
    if (used === reserved) return;
    const bucket = this.bucket(this.tokens, key, limits.tpm);
    bucket.level = Math.min(limits.tpm, bucket.level - (used - reserved));
  }
}
