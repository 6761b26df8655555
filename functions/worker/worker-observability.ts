/**
 * Metrics and spans in the Worker: an isolate's own counts behind GET /metrics (labelled with the isolate: a scrape
 * sees one isolate, never the deployment) and, with a Workers Analytics Engine dataset bound as METRICS_DATASET, a
 * data point per request for the deployment-wide view (docs/DEPLOY.md). METRICS = "off" leaves both out;
 * METRICS_TOKEN (else ADMIN_TOKEN) guards /metrics, and with neither it is open only in open mode. Spans are
 * OpenTelemetry API calls without an SDK here: no-ops.
 */
import type { TextClassifier } from '../engine/tasks/text-classifier.js';
import type { AppPlugin } from '../http/app-plugin.js';
import { IsolateRouterMetrics, type AnalyticsDataset } from '../observability/isolate-metrics.js';
import { observabilityPlugin } from '../observability/observability-plugin.js';
import { observeClassifiers } from '../observability/observed-classifier.js';
import { observedFetch } from '../observability/observed-fetch.js';
import { upstreamLabel } from '../observability/upstream-span.js';
import type { Registry } from '../registry/registry.js';
import type { UpstreamClient, UpstreamClientOptions } from '../upstream/upstream-client.js';

export interface ObservabilityEnv {
  METRICS?: string;
  METRICS_TOKEN?: string;
  /** wrangler.toml's [[analytics_engine_datasets]] binding. */
  METRICS_DATASET?: AnalyticsDataset;
  AUTH_MODE?: string;
  ADMIN_TOKEN?: string;
}

export interface WorkerObservability {
  metrics: IsolateRouterMetrics;
  plugin: AppPlugin;
  engines(engines: Map<string, TextClassifier>): Map<string, TextClassifier>;
  upstreamOptions(fetchFn?: typeof fetch): UpstreamClientOptions;
}

export function workerObservability(env: ObservabilityEnv, registry: Registry, upstreams: () => UpstreamClient): WorkerObservability | null {
  if (env.METRICS === 'off') return null;
  const metrics = new IsolateRouterMetrics({
    breakerStates: () => [...new Set(registry.models.flatMap((m) => m.upstreams.map((u) => u.url)).filter((url) => url !== 'embedded'))]
      .map((url) => ({ upstream: upstreamLabel(url), state: upstreams().breaker(url).state })),
  }, env.METRICS_DATASET);
  return {
    metrics,
    plugin: observabilityPlugin({ metrics, access: { token: env.METRICS_TOKEN || env.ADMIN_TOKEN || undefined, openWithoutToken: env.AUTH_MODE === 'open' } }),
    engines: (engines) => observeClassifiers(engines, metrics),
    upstreamOptions: (fetchFn) => ({ fetch: observedFetch(metrics, fetchFn), onUpstreamDown: (upstream) => metrics.upstreamDown(upstreamLabel(upstream.url)) }),
  };
}
