/**
 * The bench's Worker entry (bench/cost only, never deployed): the real Worker (functions/worker/index.ts) with every
 * binding it receives wrapped by a counting proxy (edge-counters.ts), so the operations that Cloudflare bills are
 * counted as the code performs them on Miniflare's real D1, Durable Objects and R2. The Durable Object classes are
 * the real ones, constructed with counting storage and a counting env (a flush from an object to D1 is counted too).
 * GET /__cost/counts answers the counts so far; POST /__cost/reset zeroes them.
 */
import worker, { FineTuningQueue as RealFineTuningQueue, KeyRateLimiter as RealKeyRateLimiter } from '../../../functions/worker/index.js';
import type { Env } from '../../../functions/worker/worker-env.js';
import { countAlarm, countingEnv, countingState, counts, resetCounts } from './edge-counters.js';

type Ctx = Parameters<typeof worker.fetch>[2];

export default {
  async fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === '/__cost/counts') return Response.json(counts);
    if (pathname === '/__cost/reset') {
      resetCounts();
      return Response.json(counts);
    }
    counts.workerRequests += 1;
    return worker.fetch(request, countingEnv(env), ctx);
  },
};

// The real classes, constructed with counting storage and env. KeyRateLimiter keeps its buckets in memory and uses
// its storage only for usage records D1 refused (parked until its alarm writes them): counted when that happens.
type ObjectClass<T> = new (state: never, env: Env) => T;
const countedClass = <T extends object>(Base: ObjectClass<T>) => class extends (Base as ObjectClass<object>) {
  constructor(state: never, env: Env) {
    super(countingState(state), countingEnv(env));
  }

  /** An alarm is billed as a request to the object. */
  async alarm(...args: unknown[]): Promise<void> {
    countAlarm();
    await (Base.prototype as { alarm?: (...a: unknown[]) => Promise<void> }).alarm?.apply(this, args);
  }
};

export const KeyRateLimiter = countedClass(RealKeyRateLimiter as unknown as ObjectClass<RealKeyRateLimiter>);
export const FineTuningQueue = countedClass(RealFineTuningQueue as unknown as ObjectClass<RealFineTuningQueue>);
