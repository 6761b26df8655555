/**
 * Metrics of the Lambda router, in two views as the Worker has them. An execution environment lives minutes and a
 * scrape reaches whichever one serves it, so GET /metrics (prom-client, the Node server's names) answers the counts of
 * that one environment since it started, every sample labelled lambda_instance="<8 hex>" so that they cannot be read
 * as the function's. With METRICS_EMF=on, the function's own numbers come from the EMF line each request then writes
 * (emf-metrics.ts), which CloudWatch turns into metrics: off by default, as each line is log bytes paid per request
 * (docs/DEPLOY.md states what). METRICS=off leaves out both. GET /metrics takes
 * METRICS_TOKEN, else ADMIN_TOKEN, and with neither it is open only to a router without keys (as Node's).
 */
import type { MetricsAccess } from '../observability/metrics-route.js';
import { observedFetch } from '../observability/observed-fetch.js';
import type { RouterMetrics } from '../observability/router-metrics.js';
import type { UpstreamClientOptions } from '../upstream/upstream-client.js';
import { nodeMetrics, type ObservedParts } from '../node/node-observability.js';
import { EMF_NAMESPACE, EmfRouterMetrics } from './emf-metrics.js';

type Env = Record<string, string | undefined>;

export interface LambdaObservability {
  metrics: RouterMetrics;
  access: MetricsAccess;
  /** The upstream client's options, its fetch (the stage's, with the upstream key) counted. */
  upstreamOptions(fetchFn?: typeof fetch): UpstreamClientOptions;
}

export interface LambdaObservabilityOptions {
  /** Whether the router takes API keys: without, /metrics is open when no token is set. */
  keys: boolean;
  env?: Env;
  /** Where the EMF lines go (default stdout). */
  write?: (line: string) => void;
  instance?: string;
}

export function lambdaObservability(parts: ObservedParts, { keys, env = process.env, write = (line) => void process.stdout.write(line), instance = crypto.randomUUID().slice(0, 8) }: LambdaObservabilityOptions): LambdaObservability | null {
  if (env.METRICS === 'off') return null;
  const access = { token: env.METRICS_TOKEN || env.ADMIN_TOKEN || undefined, openWithoutToken: !keys };
  const observed = nodeMetrics(parts, access);
  observed.metrics.registry.setDefaultLabels({ lambda_instance: instance });
  const metrics = env.METRICS_EMF !== 'on' ? observed.metrics : new EmfRouterMetrics(observed.metrics, write, env.METRICS_NAMESPACE || EMF_NAMESPACE);
  return {
    metrics,
    access,
    upstreamOptions: (fetchFn) => ({ ...observed.upstreamOptions, fetch: observedFetch(observed.metrics, fetchFn) }),
  };
}
