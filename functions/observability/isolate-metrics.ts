/**
 * RouterMetrics for the Worker: the counts of this isolate, rendered by GET /metrics with an `isolate` label (a
 * scrape reaches whichever isolate serves it, so these are one isolate's counts since it started, never the
 * deployment's), and, when the Worker has a Workers Analytics Engine dataset bound, one data point per request
 * written to it: the deployment-wide record, queried with Cloudflare's SQL API (docs/DEPLOY.md).
 */
import { BATCH_SIZE_BUCKETS, CIRCUIT_STATES, LATENCY_BUCKETS, METRICS, QUEUE_BUCKETS } from './metric-names.js';
import type { RequestObservation, RouterMetrics, ScrapedGauges, ShadowObservation } from './router-metrics.js';
import { TextRegistry } from './text-exposition.js';

/** The part of a Workers Analytics Engine dataset binding this uses. */
export interface AnalyticsDataset {
  writeDataPoint(point: { blobs?: string[]; doubles?: number[]; indexes?: string[] }): void;
}

/** The data point of one request: blobs method, route, model, version, status; doubles seconds, input and output tokens. */
export const requestDataPoint = (o: RequestObservation) => ({
  indexes: [o.model || o.route],
  blobs: [o.method, o.route, o.model, o.version, String(o.status)],
  doubles: [o.seconds, o.inputTokens, o.outputTokens],
});

export class IsolateRouterMetrics implements RouterMetrics {
  readonly isolate: string;
  private readonly registry: TextRegistry;
  private readonly count: ReturnType<TextRegistry['counter']>;
  private readonly latency: ReturnType<TextRegistry['histogram']>;
  private readonly inputTokens: ReturnType<TextRegistry['counter']>;
  private readonly outputTokens: ReturnType<TextRegistry['counter']>;
  private readonly queue: ReturnType<TextRegistry['histogram']>;
  private readonly batchSize: ReturnType<TextRegistry['histogram']>;
  private readonly batchSeconds: ReturnType<TextRegistry['histogram']>;
  private readonly piiFound: ReturnType<TextRegistry['counter']>;
  private readonly attempts: ReturnType<TextRegistry['counter']>;
  private readonly down: ReturnType<TextRegistry['counter']>;
  private readonly shadows: ReturnType<TextRegistry['counter']>;

  constructor(gauges: ScrapedGauges = {}, private readonly dataset?: AnalyticsDataset, isolate = crypto.randomUUID().slice(0, 8)) {
    this.isolate = isolate;
    const r = (this.registry = new TextRegistry({ isolate }));
    this.count = r.counter(METRICS.requests.name, METRICS.requests.help);
    this.latency = r.histogram(METRICS.duration.name, METRICS.duration.help, LATENCY_BUCKETS);
    this.inputTokens = r.counter(METRICS.inputTokens.name, METRICS.inputTokens.help);
    this.outputTokens = r.counter(METRICS.outputTokens.name, METRICS.outputTokens.help);
    this.queue = r.histogram(METRICS.queueWait.name, METRICS.queueWait.help, QUEUE_BUCKETS);
    this.batchSize = r.histogram(METRICS.batchSize.name, METRICS.batchSize.help, BATCH_SIZE_BUCKETS);
    this.batchSeconds = r.histogram(METRICS.batchDuration.name, METRICS.batchDuration.help, LATENCY_BUCKETS);
    this.piiFound = r.counter(METRICS.redactions.name, METRICS.redactions.help);
    this.attempts = r.counter(METRICS.upstreamAttempts.name, METRICS.upstreamAttempts.help);
    this.down = r.counter(METRICS.upstreamDown.name, METRICS.upstreamDown.help);
    this.shadows = r.counter(METRICS.shadowTexts.name, METRICS.shadowTexts.help);
    const { breakerStates, usageBacklog } = gauges;
    if (breakerStates) {
      r.gauge(METRICS.breakerState.name, METRICS.breakerState.help, () =>
        breakerStates().flatMap(({ upstream, state }) => CIRCUIT_STATES.map((s) => ({ labels: { upstream, state: s }, value: s === state ? 1 : 0 }))));
    }
    if (usageBacklog) r.gauge(METRICS.usageBacklog.name, METRICS.usageBacklog.help, () => [{ labels: {}, value: usageBacklog() }]);
  }

  request(o: RequestObservation): void {
    this.count({ method: o.method, route: o.route, model: o.model, version: o.version, status: String(o.status) });
    this.latency({ route: o.route, model: o.model }, o.seconds);
    if (o.inputTokens > 0) this.inputTokens({ model: o.model, version: o.version }, o.inputTokens);
    if (o.outputTokens > 0) this.outputTokens({ model: o.model, version: o.version }, o.outputTokens);
    try {
      this.dataset?.writeDataPoint(requestDataPoint(o));
    } catch {
      // a full or unavailable dataset must not fail the request it describes
    }
  }

  queueWait(model: string, seconds: number): void {
    this.queue({ model }, seconds);
  }

  batch(size: number, seconds: number): void {
    this.batchSize({}, size);
    this.batchSeconds({}, seconds);
  }

  redactions(kind: string, count: number): void {
    this.piiFound({ kind }, count);
  }

  upstreamAttempt(upstream: string, outcome: string): void {
    this.attempts({ upstream, outcome });
  }

  upstreamDown(upstream: string): void {
    this.down({ upstream });
  }

  shadowOutcome(o: ShadowObservation): void {
    const labels = { alias: o.alias, model: o.model, shadow: o.shadowModel };
    if (o.agreed > 0) this.shadows({ ...labels, result: 'agreed' }, o.agreed);
    if (o.compared > o.agreed) this.shadows({ ...labels, result: 'disagreed' }, o.compared - o.agreed);
    if (o.skipped > 0) this.shadows({ ...labels, result: 'skipped' }, o.skipped);
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: this.registry.render() };
  }
}
