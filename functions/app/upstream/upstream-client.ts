/**
 * Calls a model's OpenAI-compatible upstreams: in registry order, skipping those whose circuit is open, with
 * retries and backoff only while nothing has reached the client. A streamed answer is committed once its first
 * chunk arrives (within the first-token timeout) and is then passed through chunk by chunk, unbuffered; if the
 * upstream breaks or the total timeout passes mid-stream, the stream ends with an error event.
 */
import { ApiError } from '../errors.js';
import type { Upstream } from '../../engine/registry/registry.js';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';

export interface UpstreamPolicy {
  connectTimeoutMs: number;
  firstTokenTimeoutMs: number;
  totalTimeoutMs: number;
  /** Extra attempts per upstream, before anything was sent to the client. */
  retries: number;
  backoffMs: number;
  breaker: CircuitBreakerOptions;
}

export const DEFAULT_UPSTREAM_POLICY: UpstreamPolicy = {
  connectTimeoutMs: 2_000,
  firstTokenTimeoutMs: 30_000,
  totalTimeoutMs: 300_000,
  retries: 1,
  backoffMs: 100,
  breaker: { failureThreshold: 3, openMs: 5_000 },
};

/** An upstream answer that is not worth retrying elsewhere (a 4xx: the request itself is at fault). */
class UpstreamRefusal extends Error {
  constructor(readonly response: Response) {
    super('upstream refused the request');
  }
}

const encoder = new TextEncoder();
const errorEvent = (message: string, code: string) =>
  encoder.encode(`data: ${JSON.stringify({ error: { message, type: 'server_error', code, param: null } })}\n\n`);

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new ApiError(504, 'the upstream did not answer in time', 'server_error', 'upstream_timeout'));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export class UpstreamClient {
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(
    private readonly policy: UpstreamPolicy = DEFAULT_UPSTREAM_POLICY,
    private readonly fetchFn: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  breaker(url: string): CircuitBreaker {
    let breaker = this.breakers.get(url);
    if (!breaker) this.breakers.set(url, (breaker = new CircuitBreaker(this.policy.breaker)));
    return breaker;
  }

  /** POSTs `body` (with the upstream's model name) to `path` on the first upstream that answers. */
  async post(upstreams: Upstream[], path: string, body: Record<string, unknown>, clientSignal: AbortSignal): Promise<Response> {
    let lastError: ApiError | null = null;
    let skipped = 0;
    // "embedded" names the generation server of `npm start`; a runtime that has none cannot reach it.
    for (const upstream of upstreams.filter((u) => u.url !== 'embedded')) {
      const breaker = this.breaker(upstream.url);
      for (let attempt = 0; attempt <= this.policy.retries; attempt++) {
        if (!breaker.tryAcquire()) {
          skipped++;
          break;
        }
        if (attempt > 0) await new Promise((r) => setTimeout(r, this.policy.backoffMs * 2 ** (attempt - 1)));
        try {
          const response = await this.attempt(upstream, path, { ...body, model: upstream.model }, clientSignal);
          breaker.onSuccess();
          return response;
        } catch (error) {
          if (error instanceof UpstreamRefusal) {
            breaker.onSuccess(); // it answered: the upstream is healthy
            return error.response;
          }
          if (clientSignal.aborted) throw new ApiError(400, 'the client closed the request', 'invalid_request_error', 'client_closed');
          breaker.onFailure();
          lastError = error instanceof ApiError ? error : new ApiError(502, `the upstream failed: ${error instanceof Error ? error.message : String(error)}`, 'server_error', 'upstream_error');
        }
      }
    }
    if (!lastError && skipped > 0) {
      const wait = Math.min(...upstreams.map((u) => this.breaker(u.url).retryAfterMs()));
      throw new ApiError(503, 'every upstream for this model is failing; the circuit is open', 'server_error', 'upstream_unavailable', null, { 'Retry-After': String(Math.max(1, Math.ceil(wait / 1000))) });
    }
    throw lastError ?? new ApiError(503, 'no upstream is configured for this model', 'server_error', 'upstream_unavailable');
  }

  private async attempt(upstream: Upstream, path: string, body: Record<string, unknown>, clientSignal: AbortSignal): Promise<Response> {
    const abort = new AbortController();
    const onClientGone = () => abort.abort();
    clientSignal.addEventListener('abort', onClientGone, { once: true });
    let pastTotal = false;
    const total = setTimeout(() => {
      pastTotal = true;
      abort.abort();
    }, this.policy.totalTimeoutMs);
    const release = () => {
      clearTimeout(total);
      clientSignal.removeEventListener('abort', onClientGone);
    };
    try {
      const response = await withTimeout(
        this.fetchFn(`${upstream.url}/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: abort.signal }),
        this.policy.connectTimeoutMs,
        () => abort.abort(),
      );
      if (response.status >= 400 && response.status < 500) {
        release();
        throw new UpstreamRefusal(new Response(await response.arrayBuffer(), { status: response.status, headers: { 'content-type': response.headers.get('content-type') ?? 'application/json' } }));
      }
      if (!response.ok || !response.body) throw new ApiError(502, `the upstream answered ${response.status}`, 'server_error', 'upstream_error');
      const contentType = response.headers.get('content-type') ?? 'application/json';
      if (body.stream !== true) {
        // Not streamed: take the whole answer before committing, so a failure can still be retried.
        const bytes = await response.arrayBuffer();
        release();
        return new Response(bytes, { status: response.status, headers: { 'content-type': contentType } });
      }
      const reader = response.body.getReader();
      const first = await withTimeout(reader.read(), this.policy.firstTokenTimeoutMs, () => abort.abort());
      return new Response(this.passThrough(reader, first, abort, release), { status: response.status, headers: { 'content-type': contentType, 'cache-control': 'no-cache' } });
    } catch (error) {
      release();
      abort.abort();
      if (pastTotal) throw new ApiError(504, `the upstream did not finish within ${this.policy.totalTimeoutMs} ms`, 'server_error', 'upstream_timeout');
      throw error;
    }
  }

  /** The upstream's bytes as they come, the first chunk already read; errors become a final SSE error event. */
  private passThrough(reader: ReadableStreamDefaultReader<Uint8Array>, first: ReadableStreamReadResult<Uint8Array>, abort: AbortController, release: () => void): ReadableStream<Uint8Array> {
    let pending: ReadableStreamReadResult<Uint8Array> | null = first;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const result = pending ?? (await reader.read());
          pending = null;
          if (result.done) {
            release();
            controller.close();
            return;
          }
          controller.enqueue(result.value);
        } catch {
          release();
          controller.enqueue(errorEvent(abort.signal.aborted ? 'the upstream stream passed its time limit' : 'the upstream broke off the stream', 'upstream_stream_error'));
          controller.close();
        }
      },
      cancel: () => {
        release();
        abort.abort();
      },
    });
  }
}
