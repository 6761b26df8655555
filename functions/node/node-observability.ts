/**
 * Metrics for the Node server: prom-client's registry with the gauges read at scrape (each upstream's circuit, the
 * usage writer's backlog) and the upstream client's hooks (every attempt through its fetch, every upstream found
 * down). Built before what it reads exists: the gauges look the upstream client and billing up when scraped.
 */
import type { UsageSink } from '../billing/usage-writer.js';
import type { MetricsAccess } from '../observability/metrics-route.js';
import { observedFetch } from '../observability/observed-fetch.js';
import { upstreamLabel } from '../observability/upstream-span.js';
import type { Registry } from '../registry/registry.js';
import type { UpstreamClient, UpstreamClientOptions } from '../upstream/upstream-client.js';
import { PromRouterMetrics } from './prom-metrics.js';
import { upstreamHttpFetch } from './upstream-http-fetch.js';

export interface ObservedParts {
  registry: () => Registry;
  upstreams: () => UpstreamClient | undefined;
  usage: () => UsageSink | undefined;
}

export interface NodeMetrics {
  metrics: PromRouterMetrics;
  /** What the upstream client is built with, so that it reports its attempts. */
  upstreamOptions: UpstreamClientOptions;
  access: MetricsAccess;
}

const backlogOf = (sink: UsageSink | undefined): number => (sink && 'backlog' in sink && typeof sink.backlog === 'number' ? sink.backlog : 0);

export function nodeMetrics(parts: ObservedParts, access: MetricsAccess): NodeMetrics {
  const metrics = new PromRouterMetrics({
    breakerStates: () => {
      const client = parts.upstreams();
      if (!client) return [];
      const urls = new Set(parts.registry().models.flatMap((m) => m.upstreams.map((u) => u.url)).filter((url) => url !== 'embedded'));
      return [...urls].map((url) => ({ upstream: upstreamLabel(url), state: client.breaker(url).state }));
    },
    usageBacklog: () => backlogOf(parts.usage()),
  });
  return {
    metrics,
    access,
    upstreamOptions: { fetch: observedFetch(metrics, upstreamHttpFetch), onUpstreamDown: (upstream) => metrics.upstreamDown(upstreamLabel(upstream.url)) },
  };
}
