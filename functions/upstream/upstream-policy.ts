/** How the router waits for, retries and gives up on an upstream; tests shorten every bound. */
import type { CircuitBreakerOptions } from './circuit-breaker.js';

export interface UpstreamPolicy {
  /**
   * How long an upstream may take to answer before the router asks whether it is there at all (a non-streamed
   * completion sends its headers only when it is done, so late headers alone mean nothing).
   */
  connectTimeoutMs: number;
  /**
   * Then its GET /health must answer within this, or the attempt is a connection failure (a stopped or hung
   * server); generous, since a busy server's /health may wait behind its work.
   */
  probeTimeoutMs: number;
  /** A stream's first chunk, from the start of the attempt. */
  firstTokenTimeoutMs: number;
  /** The longest silence between two chunks of a stream. */
  idleTimeoutMs: number;
  /** The whole request: a non-streamed answer, or a stream to its end. */
  totalTimeoutMs: number;
  /** Extra attempts per upstream after a connection failure or a 5xx, before anything was sent to the client. */
  retries: number;
  backoffMs: number;
  breaker: CircuitBreakerOptions;
}

export const DEFAULT_UPSTREAM_POLICY: UpstreamPolicy = {
  connectTimeoutMs: 2_000,
  probeTimeoutMs: 10_000,
  firstTokenTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  totalTimeoutMs: 300_000,
  retries: 1,
  backoffMs: 100,
  breaker: { failureThreshold: 3, openMs: 5_000 },
};

export type UpstreamPolicyOverrides = Partial<Omit<UpstreamPolicy, 'breaker'>> & { breaker?: Partial<CircuitBreakerOptions> };

export const upstreamPolicy = (overrides: UpstreamPolicyOverrides = {}): UpstreamPolicy => ({
  ...DEFAULT_UPSTREAM_POLICY,
  ...overrides,
  breaker: { ...DEFAULT_UPSTREAM_POLICY.breaker, ...overrides.breaker },
});
