/**
 * Per-key token buckets for requests per minute and tokens per minute, in memory (one Node process). A request
 * needs one request token and a non-negative token balance; the tokens it used are debited after it ran, since
 * they are known only then. Answers carry the IETF RateLimit / RateLimit-Policy headers and OpenAI's x-ratelimit-*.
 */
export interface Limits {
  rpm: number;
  tpm: number;
}

interface Bucket {
  level: number;
  at: number;
}

/** In memory (Node, one process) or in a Durable Object per key (Workers, exact across isolates). */
export interface KeyLimiter {
  take(key: string, limits: Limits): LimitDecision | Promise<LimitDecision>;
  spend(key: string, limits: Limits, used: number): void;
}

export interface LimitDecision {
  allowed: boolean;
  retryAfterSeconds: number;
  headers: Record<string, string>;
}

const WINDOW_MS = 60_000;

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

  take(key: string, limits: Limits): LimitDecision {
    const requests = this.bucket(this.requests, key, limits.rpm);
    const tokens = this.bucket(this.tokens, key, limits.tpm);
    const allowed = requests.level >= 1 && tokens.level >= 0;
    if (allowed) requests.level -= 1;
    const requestWaitMs = requests.level >= 1 ? 0 : msUntil(1 - requests.level, limits.rpm);
    const tokenWaitMs = tokens.level >= 0 ? 0 : msUntil(-tokens.level, limits.tpm);
    const retryAfterSeconds = allowed ? 0 : Math.max(1, Math.ceil(Math.max(requestWaitMs, tokenWaitMs) / 1000));
    const remainingRequests = Math.max(0, Math.floor(requests.level));
    const remainingTokens = Math.max(0, Math.floor(tokens.level));
    const fullRequestsMs = msUntil(limits.rpm - requests.level, limits.rpm);
    const fullTokensMs = msUntil(limits.tpm - tokens.level, limits.tpm);
    return {
      allowed,
      retryAfterSeconds,
      headers: {
        'RateLimit-Policy': `"requests";q=${limits.rpm};w=60, "tokens";q=${limits.tpm};w=60`,
        RateLimit: `"requests";r=${remainingRequests};t=${Math.ceil(requestWaitMs / 1000)}, "tokens";r=${remainingTokens};t=${Math.ceil(tokenWaitMs / 1000)}`,
        'x-ratelimit-limit-requests': String(limits.rpm),
        'x-ratelimit-remaining-requests': String(remainingRequests),
        'x-ratelimit-reset-requests': `${fullRequestsMs}ms`,
        'x-ratelimit-limit-tokens': String(limits.tpm),
        'x-ratelimit-remaining-tokens': String(remainingTokens),
        'x-ratelimit-reset-tokens': `${fullTokensMs}ms`,
        ...(allowed ? {} : { 'Retry-After': String(retryAfterSeconds) }),
      },
    };
  }

  /** Debits the tokens a request used (the balance may go below zero: the next requests wait). */
  spend(key: string, limits: Limits, used: number): void {
    this.bucket(this.tokens, key, limits.tpm).level -= used;
  }
}
