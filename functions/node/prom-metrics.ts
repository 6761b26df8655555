/**
 * RouterMetrics on prom-client, in a registry of its own (each server its own counts; tests run several), with
 * prom-client's process metrics (CPU, memory, event-loop lag) beside the router's.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BATCH_SIZE_BUCKETS, CIRCUIT_STATES, LATENCY_BUCKETS, METRICS, QUEUE_BUCKETS } from '../observability/metric-names.js';
import type { RequestObservation, RouterMetrics, ScrapedGauges, ShadowObservation } from '../observability/router-metrics.js';

type Spec = (typeof METRICS)[keyof typeof METRICS];
const named = (spec: Spec, registers: Registry[]) => ({ name: spec.name, help: spec.help, labelNames: [...spec.labels], registers });

export class PromRouterMetrics implements RouterMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter;
  private readonly duration: Histogram;
  private readonly inputTokens: Counter;
  private readonly outputTokens: Counter;
  private readonly queue: Histogram;
  private readonly batchSize: Histogram;
  private readonly batchDuration: Histogram;
  private readonly piiFound: Counter;
  private readonly attempts: Counter;
  private readonly down: Counter;
  private readonly shadows: Counter;

  constructor(gauges: ScrapedGauges = {}, { processMetrics = true } = {}) {
    const r = [this.registry];
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter(named(METRICS.requests, r));
    this.duration = new Histogram({ ...named(METRICS.duration, r), buckets: LATENCY_BUCKETS });
    this.inputTokens = new Counter(named(METRICS.inputTokens, r));
    this.outputTokens = new Counter(named(METRICS.outputTokens, r));
    this.queue = new Histogram({ ...named(METRICS.queueWait, r), buckets: QUEUE_BUCKETS });
    this.batchSize = new Histogram({ ...named(METRICS.batchSize, r), buckets: BATCH_SIZE_BUCKETS });
    this.batchDuration = new Histogram({ ...named(METRICS.batchDuration, r), buckets: LATENCY_BUCKETS });
    this.piiFound = new Counter(named(METRICS.redactions, r));
    this.attempts = new Counter(named(METRICS.upstreamAttempts, r));
    this.down = new Counter(named(METRICS.upstreamDown, r));
    this.shadows = new Counter(named(METRICS.shadowTexts, r));
    const { breakerStates, usageBacklog } = gauges;
    if (breakerStates) {
      new Gauge({
        ...named(METRICS.breakerState, r),
        collect() {
          this.reset();
          for (const { upstream, state } of breakerStates()) for (const s of CIRCUIT_STATES) this.set({ upstream, state: s }, s === state ? 1 : 0);
        },
      });
    }
    if (usageBacklog) new Gauge({ ...named(METRICS.usageBacklog, r), collect() { this.set(usageBacklog()); } });
  }

  request(o: RequestObservation): void {
    this.requests.inc({ method: o.method, route: o.route, model: o.model, version: o.version, status: String(o.status) });
    this.duration.observe({ route: o.route, model: o.model }, o.seconds);
    if (o.inputTokens > 0) this.inputTokens.inc({ model: o.model, version: o.version }, o.inputTokens);
    if (o.outputTokens > 0) this.outputTokens.inc({ model: o.model, version: o.version }, o.outputTokens);
  }

  queueWait(model: string, seconds: number): void {
    this.queue.observe({ model }, seconds);
  }

  batch(size: number, seconds: number): void {
    this.batchSize.observe(size);
    this.batchDuration.observe(seconds);
  }

  redactions(kind: string, count: number): void {
    this.piiFound.inc({ kind }, count);
  }

  upstreamAttempt(upstream: string, outcome: string): void {
    this.attempts.inc({ upstream, outcome });
  }

  upstreamDown(upstream: string): void {
    this.down.inc({ upstream });
  }

  shadowOutcome(o: ShadowObservation): void {
    const labels = { alias: o.alias, model: o.model, shadow: o.shadowModel };
    if (o.agreed > 0) this.shadows.inc({ ...labels, result: 'agreed' }, o.agreed);
    if (o.compared > o.agreed) this.shadows.inc({ ...labels, result: 'disagreed' }, o.compared - o.agreed);
    if (o.skipped > 0) this.shadows.inc({ ...labels, result: 'skipped' }, o.skipped);
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
