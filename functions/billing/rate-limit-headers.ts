/** A limit decision as the headers every keyed answer carries: IETF RateLimit / RateLimit-Policy, OpenAI's x-ratelimit-*, Retry-After on refusal. */
import type { LimitDecision } from './rate-limiter.js';

export function rateLimitHeaders(d: LimitDecision): Record<string, string> {
  return {
    'RateLimit-Policy': `"requests";q=${d.limits.rpm};w=60, "tokens";q=${d.limits.tpm};w=60`,
    RateLimit: `"requests";r=${d.remainingRequests};t=${Math.ceil(d.requestWaitMs / 1000)}, "tokens";r=${d.remainingTokens};t=${Math.ceil(d.tokenWaitMs / 1000)}`,
    'x-ratelimit-limit-requests': String(d.limits.rpm),
    'x-ratelimit-remaining-requests': String(d.remainingRequests),
    'x-ratelimit-reset-requests': `${Math.ceil(d.fullRequestsMs)}ms`,
    'x-ratelimit-limit-tokens': String(d.limits.tpm),
    'x-ratelimit-remaining-tokens': String(d.remainingTokens),
    'x-ratelimit-reset-tokens': `${Math.ceil(d.fullTokensMs)}ms`,
    ...(d.allowed ? {} : { 'Retry-After': String(d.retryAfterSeconds) }),
  };
}
