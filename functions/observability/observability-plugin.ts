/**
 * Metrics and traces as a plugin of the app, placed first so that its middleware sees every answer, the other
 * plugins' refusals (401, 429) included: a server span per request (a no-op without an OpenTelemetry SDK), the
 * request counters, and GET /metrics. Without metrics it adds the spans only.
 */
import type { AppPlugin } from '../http/app-plugin.js';
import { metricsRoutes, type MetricsAccess } from './metrics-route.js';
import { requestMetrics } from './request-metrics.js';
import { routeSpans } from './route-spans.js';
import type { RouterMetrics } from './router-metrics.js';

export interface ObservabilityOptions {
  metrics?: RouterMetrics;
  access?: MetricsAccess;
}

export function observabilityPlugin({ metrics, access = { openWithoutToken: false } }: ObservabilityOptions): AppPlugin {
  return {
    middleware: [
      { path: '*', handler: routeSpans() },
      // Before the body limit: a 413 is an answer to count like the others.
      ...(metrics ? [{ path: '*', handler: requestMetrics(metrics), beforeBodyLimit: true }] : []),
    ],
    routes: metrics ? [metricsRoutes(metrics, access)] : [],
  };
}
