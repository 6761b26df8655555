/**
 * A client span around one attempt at a GPU upstream, whose W3C traceparent (and tracestate) goes in the attempt's
 * headers: vLLM and our generation server continue the router's trace. Without an SDK the headers are empty.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { tracer } from './tracer.js';

/** An upstream as metrics and spans name it: its origin (a path or query could hold a secret). */
export function upstreamLabel(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'invalid-url';
  }
}

/** Runs `call` with the headers that carry the span's context; the span ends with the outcome `call` returns. */
export async function withUpstreamSpan<T extends { kind: string }>(url: string, path: string, call: (traceHeaders: Record<string, string>) => Promise<T>): Promise<T> {
  const span = tracer().startSpan('upstream call', { kind: SpanKind.CLIENT, attributes: { 'server.address': upstreamLabel(url), 'url.path': `/v1${path}`, 'http.request.method': 'POST' } });
  if (!span.isRecording()) return call({});
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), headers);
  try {
    const outcome = await call(headers);
    span.setAttribute('edge_maas.upstream_outcome', outcome.kind);
    if (outcome.kind !== 'answered') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.kind });
    return outcome;
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}
