/**
 * Exact per-key rate limits at the edge: one Durable Object per API key holds that key's token buckets, so every
 * isolate and location that serves the key draws from the same buckets. The object keeps them in memory; if it is
 * evicted (idle for a while) the buckets start full again, which is what an idle key's buckets are anyway.
 */
import { RateLimiter, type KeyLimiter, type LimitDecision, type Limits, type Settlement } from '../billing/rate-limiter.js';

type LimitRequest = { op: 'take'; key: string; limits: Limits; reserve: number } | ({ op: 'settle' } & Settlement);

export class KeyRateLimiter {
  private readonly limiter = new RateLimiter();

  async fetch(request: Request): Promise<Response> {
    const body = (await request.json()) as LimitRequest;
    if (body.op === 'take') return Response.json(this.limiter.take(body.key, body.limits, body.reserve));
    this.limiter.settle(body);
    return new Response(null, { status: 204 });
  }
}

export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

/** The billing middleware's limiter, backed by KeyRateLimiter objects. */
export class DurableKeyLimiter implements KeyLimiter {
  constructor(private readonly namespace: DurableObjectNamespaceLike) {}

  private call(body: LimitRequest): Promise<Response> {
    const stub = this.namespace.get(this.namespace.idFromName(body.key));
    return stub.fetch(new Request('https://limiter.internal/', { method: 'POST', body: JSON.stringify(body) }));
  }

  async take(key: string, limits: Limits, reserveTokens = 0): Promise<LimitDecision> {
    return (await (await this.call({ op: 'take', key, limits, reserve: reserveTokens })).json()) as LimitDecision;
  }

  /** The call, for the calling request to keep alive (the billing middleware hands it to that request's waitUntil). */
  settle(settlement: Settlement): Promise<unknown> | void {
    if (settlement.used === settlement.reserved) return;
    return this.call({ op: 'settle', ...settlement }).catch((error: unknown) => {
      console.error(`rate limit settle failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
}
