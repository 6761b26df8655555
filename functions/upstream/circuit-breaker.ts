/**
 * A circuit breaker per upstream: after `failureThreshold` failures in a row it opens and refuses calls for
 * `openMs`; then one probe is let through (half-open): success closes it, failure opens it again. An outcome that
 * says nothing about the upstream's health (busy, slow) only frees the probe's slot.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  failureThreshold: number;
  openMs: number;
  now?: () => number;
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private opened = false;

  constructor(private readonly options: CircuitBreakerOptions) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  get state(): CircuitState {
    if (!this.opened) return 'closed';
    return this.now() - this.openedAt >= this.options.openMs ? 'half-open' : 'open';
  }

  /** Whether a call may go now; in half-open, only one probe at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.probing) return false;
    this.probing = true;
    return true;
  }

  onSuccess(): void {
    this.failures = 0;
    this.opened = false;
    this.probing = false;
  }

  /** Neither success nor failure: a half-open probe's slot is free again, the counts stay as they are. */
  release(): void {
    this.probing = false;
  }

  onFailure(): void {
    this.probing = false;
    this.failures++;
    if (this.opened || this.failures >= this.options.failureThreshold) {
      this.opened = true;
      this.openedAt = this.now();
    }
  }

  /** Milliseconds until a probe may go. */
  retryAfterMs(): number {
    return this.opened ? Math.max(0, this.options.openMs - (this.now() - this.openedAt)) : 0;
  }
}
