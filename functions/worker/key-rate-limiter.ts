/**
 * Exact per-key rate limits at the edge: one Durable Object per API key holds that key's token buckets, so every
 * isolate and location that serves the key draws from the same buckets. The object keeps them in memory; if it is
 * evicted (idle for a while) the buckets start full again, which is what an idle key's buckets are anyway.
 */
import { RateLimiter, type KeyLimiter, type LimitDecision, type Limits } from '../billing/rate-limiter.js';

interface LimitRequest {
  op: 'take' | 'spend';
  key: string;
  limits: Limits;
  used?: number;
}

export class KeyRateLimiter {
  private readonly limiter = new RateLimiter();

  async fetch(request: Request): Promise<Response> {
    const { op, key, limits, used } = (await request.json()) as LimitRequest;
    if (op === 'take') return Response.json(this.limiter.take(key, limits));
    this.limiter.spend(key, limits, used ?? 0);
    return new Response(null, { status: 204 });
  }
}

export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

/** The billing middleware's limiter, backed by KeyRateLimiter objects. */
export class DurableKeyLimiter implements KeyLimiter {
  constructor(
    private readonly namespace: DurableObjectNamespaceLike,
    private readonly waitUntil: (promise: Promise<unknown>) => void,
  ) {}

  private call(body: LimitRequest): Promise<Response> {
    const stub = this.namespace.get(this.namespace.idFromName(body.key));
    return stub.fetch(new Request('https://limiter.internal/', { method: 'POST', body: JSON.stringify(body) }));
  }

  async take(key: string, limits: Limits): Promise<LimitDecision> {
    return (await (await this.call({ op: 'take', key, limits })).json()) as LimitDecision;
  }

  spend(key: string, limits: Limits, used: number): void {
    if (used > 0) this.waitUntil(this.call({ op: 'spend', key, limits, used }));
  }
}
