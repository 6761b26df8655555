/**
 * One HTTP attempt at one upstream, classified by what it says about the upstream:
 * - answered: a 2xx (a stream is committed once its first chunk is here) or a 4xx, for the client as it is;
 * - down: no connection, a reset before any answer, no headers while /health is silent too, or a 5xx: retried;
 * - busy: a 503 (the upstream shed the request): the next upstream may take it;
 * - slow: the upstream has the request but passed a deadline (or said 504): never run again elsewhere.
 * For an upstream with `warmup_seconds`, a 503 that is not JSON (an ALB with no healthy target) is "down".
 */
import type { ApiError } from '../http/errors.js';
import { clientClosed } from '../http/json-body.js';
import type { Upstream } from '../registry/registry.js';
import { upstreamBusy, upstreamDown, upstreamTimeout } from './upstream-errors.js';
import type { UpstreamPolicy } from './upstream-policy.js';
import { withUpstreamSpan } from '../observability/upstream-span.js';
import { upstreamTraceHeaders } from './caller-trace.js';
import { passThrough } from './upstream-stream.js';

export type Outcome =
  | { kind: 'answered'; response: Response }
  | { kind: 'down' | 'busy' | 'slow'; error: ApiError };

/** One POST: its body, whether it streams, the client's signal, and whom to tell when a stream breaks off. */
export interface AttemptRequest {
  path: string;
  payload: string;
  streamed: boolean;
  clientSignal: AbortSignal;
  /** A committed stream stalled or broke off (its breaker counts it). */
  onStreamFailure: () => void;
}

export interface AttemptDeps {
  policy: UpstreamPolicy;
  fetchFn: typeof fetch;
  reachable: (url: string) => Promise<boolean>;
}

const LATE = Symbol('late');

function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([promise, new Promise<typeof LATE>((resolve) => (timer = setTimeout(() => resolve(LATE), Math.max(0, ms))))])
    .finally(() => clearTimeout(timer));
}

const isJson = (response: Response) => /\bjson\b/i.test(response.headers.get('content-type') ?? '');

/**
 * The attempt inside an "upstream call" span whose traceparent goes upstream (observability/upstream-span.ts); without
 * an SDK, the caller's own traceparent goes (caller-trace.ts).
 */
export const attempt = (deps: AttemptDeps, upstream: Upstream, request: AttemptRequest): Promise<Outcome> =>
  withUpstreamSpan(upstream.url, request.path, (traceHeaders) => attemptOnce(deps, upstream, request, upstreamTraceHeaders(traceHeaders, request.clientSignal)));

async function attemptOnce(deps: AttemptDeps, upstream: Upstream, { path, payload, streamed, clientSignal, onStreamFailure }: AttemptRequest, traceHeaders: Record<string, string>): Promise<Outcome> {
  const { policy } = deps;
  const started = Date.now();
  const abort = new AbortController();
  const onClientGone = () => abort.abort();
  clientSignal.addEventListener('abort', onClientGone, { once: true });
  let pastTotal = false;
  const total = setTimeout(() => {
    pastTotal = true;
    abort.abort();
  }, policy.totalTimeoutMs);
  const release = () => {
    clearTimeout(total);
    clientSignal.removeEventListener('abort', onClientGone);
  };
  const fail = (kind: 'down' | 'busy' | 'slow', error: ApiError): Outcome => {
    release();
    abort.abort();
    return { kind, error };
  };
  const deadline = started + (streamed ? policy.firstTokenTimeoutMs : policy.totalTimeoutMs);
  try {
    const request = deps.fetchFn(`${upstream.url}/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...traceHeaders }, body: payload, signal: abort.signal });
    request.catch(() => {}); // read below; never an unhandled rejection while it races a timer
    let response = await within(request, policy.connectTimeoutMs);
    if (response === LATE) {
      const alive = await Promise.race([request.then(() => true, () => true), deps.reachable(upstream.url)]);
      if (!alive) return fail('down', upstreamDown(`the upstream sent no headers within ${policy.connectTimeoutMs} ms and its /health no answer within ${policy.probeTimeoutMs} ms`));
      response = await within(request, deadline - Date.now());
      if (response === LATE) return fail('slow', upstreamTimeout(`the upstream did not answer within ${deadline - started} ms`));
    }
    const { status } = response;
    if (status === 503 && !(upstream.warmupSeconds && !isJson(response))) return fail('busy', upstreamBusy(response.headers.get('retry-after')));
    if (status === 504) return fail('slow', upstreamTimeout('the upstream timed out (504)'));
    if (status >= 500 || (status < 300 && !response.body)) return fail('down', upstreamDown(`the upstream answered ${status}`));
    const contentType = response.headers.get('content-type') ?? 'application/json';
    if (status >= 300 || !streamed) {
      // A refusal (4xx: the request itself is at fault) or a whole answer: read within the total timeout.
      const bytes = await response.arrayBuffer();
      release();
      return { kind: 'answered', response: new Response(bytes, { status, headers: { 'content-type': contentType } }) };
    }
    const reader = response.body!.getReader();
    const first = await within(reader.read(), deadline - Date.now());
    if (first === LATE) return fail('slow', upstreamTimeout(`the upstream sent no first token within ${policy.firstTokenTimeoutMs} ms`));
    const body = passThrough(reader, first, {
      idleTimeoutMs: policy.idleTimeoutMs, totalTimeoutMs: policy.totalTimeoutMs, abort, pastTotal: () => pastTotal, end: release, onFailure: onStreamFailure,
    });
    return { kind: 'answered', response: new Response(body, { status, headers: { 'content-type': contentType, 'cache-control': 'no-cache' } }) };
  } catch (error) {
    release();
    abort.abort();
    if (clientSignal.aborted) throw clientClosed();
    if (pastTotal) return { kind: 'slow', error: upstreamTimeout(`the upstream did not finish within ${policy.totalTimeoutMs} ms`) };
    return { kind: 'down', error: upstreamDown(`the upstream failed: ${error instanceof Error ? error.message : String(error)}`) };
  }
}
