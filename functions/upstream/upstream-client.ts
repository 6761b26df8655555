/**
 * Calls a model's OpenAI-compatible upstreams in registry order, skipping those whose circuit is open. What
 * each attempt says about its upstream (see upstream-attempt.ts) decides what happens next: a connection failure
 * or a 5xx is retried with backoff and counts against the breaker; a busy upstream (503) passes the request to
 * the next one without counting; a slow one (the upstream has the request) ends it with 504, so nothing is ever
 * generated twice. When none answers, the client gets the reason most useful to it (upstream-errors.ts).
 * `generator(upstreams)` is a model's upstreams as a TextGenerator: answers passed on as the upstream sent them.
 * A call pinned to a region (its privacy policy) goes only to the upstreams of that region, failover included; never
 * to another region: when the model has no upstream there the answer is 403 `region_not_here` (permanent), when those
 * it has are failing 503 `region_unavailable` with a Retry-After.
 */
import type { ApiError } from '../http/errors.js';
import { clientClosed } from '../http/json-body.js';
import { API_PATHS, type GenerationCall, type OpenAiGenerator } from '../protocol/generation-call.js';
import type { Upstream } from '../registry/registry.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { Reachability } from './reachability.js';
import { attempt } from './upstream-attempt.js';
import { circuitOpen, mostUseful, noUpstream, noUpstreamInRegion, regionUnavailable, upstreamWarming } from './upstream-errors.js';
import { upstreamPolicy, type UpstreamPolicy, type UpstreamPolicyOverrides } from './upstream-policy.js';

export { DEFAULT_UPSTREAM_POLICY, type UpstreamPolicy, type UpstreamPolicyOverrides } from './upstream-policy.js';

export interface UpstreamClientOptions {
  fetch?: typeof fetch;
  /**
   * Called (not awaited) each time an upstream is found down: no connection, a 5xx, or an ALB's 503. A runtime
   * may use it to wake a scaled-to-zero service; it is called once per failed attempt, so debounce there.
   */
  onUpstreamDown?: (upstream: Upstream) => void | Promise<void>;
}

interface UpstreamPost {
  path: string;
  body: Record<string, unknown>;
  streamed: boolean;
  clientSignal: AbortSignal;
  region?: string;
}

export class UpstreamClient {
  readonly policy: UpstreamPolicy;
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly fetchFn: typeof fetch;
  private readonly reachability: Reachability;

  constructor(policy: UpstreamPolicyOverrides = {}, private readonly options: UpstreamClientOptions = {}) {
    this.policy = upstreamPolicy(policy);
    // Looked up on each call: a runtime may wrap global fetch after the client is built (the Lambda's upstream key).
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.reachability = new Reachability(this.fetchFn, this.policy.probeTimeoutMs);
  }

  breaker(url: string): CircuitBreaker {
    let breaker = this.breakers.get(url);
    if (!breaker) this.breakers.set(url, (breaker = new CircuitBreaker(this.policy.breaker)));
    return breaker;
  }

  /**
   * A model's upstreams, in registry order, as a TextGenerator: the call's body goes to them as the client sent it
   * (with each upstream's model name), the answer comes back as the upstream sent it.
   */
  generator(upstreams: Upstream[]): OpenAiGenerator {
    const send = (call: GenerationCall, streamed: boolean) => {
      // The method called decides whether the answer streams; a body whose "stream" disagrees is corrected.
      const body = (call.body.stream === true) === streamed ? call.body : { ...call.body, stream: streamed };
      return this.send(upstreams, { path: API_PATHS[call.kind], body, streamed, clientSignal: call.signal, region: call.region });
    };
    return { generate: (call) => send(call, false), stream: (call) => send(call, true) };
  }

  private async send(upstreams: Upstream[], { path, body, streamed, clientSignal, region }: UpstreamPost): Promise<Response> {
    // "embedded" names the generation server of `npm start`; a runtime that has none cannot reach it.
    const reachable = upstreams.filter((u) => u.url !== 'embedded');
    // An upstream without a region is in no known jurisdiction: never one for a pinned call.
    const candidates = region === undefined ? reachable : reachable.filter((u) => u.region === region);
    if (candidates.length === 0) throw region === undefined ? noUpstream() : noUpstreamInRegion(region);
    const deps = { policy: this.policy, fetchFn: this.fetchFn, reachable: (url: string) => this.reachability.check(url) };
    const reasons: ApiError[] = [];
    for (const upstream of candidates) {
      const breaker = this.breaker(upstream.url);
      const payload = JSON.stringify({ ...body, model: upstream.model });
      for (let retry = 0; retry <= this.policy.retries; retry++) {
        if (retry > 0) await new Promise((r) => setTimeout(r, this.policy.backoffMs * 2 ** (retry - 1)));
        if (clientSignal.aborted) throw clientClosed();
        if (!breaker.tryAcquire()) {
          reasons.push(upstream.warmupSeconds ? upstreamWarming(upstream.warmupSeconds) : circuitOpen(breaker.retryAfterMs()));
          break;
        }
        const outcome = await attempt(deps, upstream, { path, payload, streamed, clientSignal, onStreamFailure: () => breaker.onFailure() });
        if (outcome.kind === 'answered') {
          breaker.onSuccess(); // a 4xx too: the upstream is healthy, the request was at fault
          return outcome.response;
        }
        if (outcome.kind === 'down') {
          breaker.onFailure();
          this.reportDown(upstream);
          reasons.push(upstream.warmupSeconds ? upstreamWarming(upstream.warmupSeconds) : outcome.error);
          continue;
        }
        breaker.release(); // busy or slow says nothing about the upstream's health
        if (outcome.kind === 'slow') throw outcome.error;
        reasons.push(outcome.error);
        break;
      }
    }
    const reason = reasons.length > 0 ? mostUseful(reasons) : noUpstream();
    throw region === undefined ? reason : regionUnavailable(region, reason);
  }

  private reportDown(upstream: Upstream): void {
    try {
      void Promise.resolve(this.options.onUpstreamDown?.(upstream)).catch(() => {});
    } catch {
      // the hook's failure is not the request's
    }
  }
}
