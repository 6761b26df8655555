/**
 * Counts every answer (route pattern, model, version, status, latency, tokens, PII found) once its body has been
 * sent: a stream is observed at its end, when the meter holds its tokens and the privacy state what it masked.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { onStreamEnd } from '../billing/stream-end.js';
import type { AppEnv } from '../http/request-context.js';
import { hasEventStreamType } from '../http/sse.js';
import type { RouterMetrics } from './router-metrics.js';

/** The route pattern that answered; "unmatched" for 404s and 405s, which only middleware (method ALL) matched. */
export function routeLabel(c: Context<AppEnv>): string {
  return matchedRoutes(c).findLast((route) => route.method !== 'ALL')?.path ?? 'unmatched';
}

const STATIC_LABELS_KEPT = 256;

/**
 * routeLabel, remembered for the requests whose label is their own path (a route without parameters): matchedRoutes
 * maps every matched handler anew on each call, 2.5 µs of a classification's 20 µs of router time (bench:policies).
 * One per app: another app's routes answer the same path otherwise. Only registered static paths are kept, so
 * callers cannot grow it; parameterised paths (ids) are labelled each time.
 */
export function routeLabeller(): (c: Context<AppEnv>) => string {
  const known = new Map<string, string>();
  return (c) => {
    const key = `${c.req.method} ${c.req.path}`;
    const kept = known.get(key);
    if (kept !== undefined) return kept;
    const label = routeLabel(c);
    if (label === c.req.path && known.size < STATIC_LABELS_KEPT) known.set(key, label);
    return label;
  };
}

/**
 * A model as a label: a fine-tuned model (ft:<base>:<tenant>:<suffix>:<job>) as ft:<base>, so that /metrics names no
 * tenant and no caller-chosen suffix, and its series do not grow with every job.
 */
export function modelLabel(model: string): string {
  return model.startsWith('ft:') ? `ft:${model.split(':')[1] ?? ''}` : model;
}

/**
 * An event stream, observed at its end. The header first: reading `body` of @hono/node-server's light Response builds
 * the real one and its stream, which cost a plain JSON answer 0.1 ms (bench:policies).
 */
export const isEventStream = (res: Response) => hasEventStreamType(res) && res.body !== null;

export function requestMetrics(metrics: RouterMetrics): MiddlewareHandler<AppEnv> {
  const labelOf = routeLabeller();
  return async (c, next) => {
    const started = performance.now();
    await next();
    const route = labelOf(c);
    const { method } = c.req;
    const status = c.res.status;
    const observe = () => {
      const meter = c.get('meter');
      const model = modelLabel(meter.model ?? '');
      metrics.request({
        method, route, model, version: meter.modelVersion ?? '', status, seconds: (performance.now() - started) / 1000,
        // A cache hit is billed its tokens, but no model read them.
        inputTokens: meter.cacheHit ? 0 : meter.inputTokens, outputTokens: meter.outputTokens,
      });
      const counts = c.get('privacy')?.counts;
      if (counts) for (const kind in counts) if (counts[kind]) metrics.redactions(kind, counts[kind]);
    };
    if (isEventStream(c.res)) c.res = new Response(onStreamEnd(c.res.body!, observe), c.res);
    else observe();
  };
}
