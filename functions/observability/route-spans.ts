/**
 * One server span per request, named by its route pattern once routing has chosen it ("POST /v1/classify"), a child
 * of the caller's W3C traceparent when it sent one. Routes run inside it, so their spans (classify, upstream call)
 * are its children. A streamed answer's span ends with the stream.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import { onStreamEnd } from '../billing/stream-end.js';
import type { AppEnv } from '../http/request-context.js';
import { isEventStream, routeLabeller } from './request-metrics.js';
import { tracer } from './tracer.js';

const headerGetter = {
  keys: (headers: Headers) => {
    const names: string[] = [];
    headers.forEach((_, name) => names.push(name));
    return names;
  },
  get: (headers: Headers, key: string) => headers.get(key) ?? undefined,
};

export function routeSpans(): MiddlewareHandler<AppEnv> {
  const routeLabel = routeLabeller();
  return async (c, next) => {
    const parent = propagation.extract(context.active(), c.req.raw.headers, headerGetter);
    const span = tracer().startSpan(`${c.req.method}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': c.req.method, 'url.path': c.req.path } }, parent);
    if (!span.isRecording()) return next(); // no SDK: nothing to name or end
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      const route = routeLabel(c);
      span.updateName(`${c.req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': c.res.status, 'edge_maas.request_id': c.get('requestId') });
      const { model, modelVersion } = c.get('meter');
      if (model) span.setAttributes({ 'edge_maas.model': model, 'edge_maas.model_version': modelVersion ?? '' });
      if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      if (isEventStream(c.res)) c.res = new Response(onStreamEnd(c.res.body!, () => span.end()), c.res);
      else span.end();
    }
  };
}
