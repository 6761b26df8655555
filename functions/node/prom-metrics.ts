/**
 * RouterMetrics on prom-client, in a registry of its own (each server its own counts; tests run several), with
 * prom-client's process metrics (CPU, memory, event-loop lag) beside the router's. The families every request
 * updates (requests, latency, tokens, queue wait, batches) are summed in plain maps (summed-series.ts) and handed to
 * the registry when it is scraped; the rarer ones are prom-client's own.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import { BATCH_SIZE_BUCKETS, CIRCUIT_STATES, LATENCY_BUCKETS, METRICS, QUEUE_BUCKETS } from '../observability/metric-names.js';
import type { RequestObservation, RouterMetrics, ScrapedGauges, ShadowObservation } from '../observability/router-metrics.js';
import { CounterFamily, HistogramFamily, type CounterSeries, type HistogramSeries } from '../observability/summed-series.js';

type Spec = (typeof METRICS)[keyof typeof METRICS];
const named = (spec: Spec, registers: Registry[]) => ({ name: spec.name, help: spec.help, labelNames: [...spec.labels], registers });

/** The series one kind of answer updates: found once per (method, route, model, version, status). */
interface AnswerSeries {
  count: CounterSeries;
  duration: HistogramSeries;
  inputTokens?: CounterSeries;
  outputTokens?: CounterSeries;
}

/**
 * A summed family as the registry reads a metric: prom-client renders whatever get() answers in its metric shape
 * (Registry.getMetricsAsString), which is what its own metrics answer too.
 */
function register(registry: Registry, family: CounterFamily | HistogramFamily): void {
  registry.registerMetric({ name: family.name, get: async () => family.collect() } as unknown as Metric);
}

export class PromRouterMetrics implements RouterMetrics {
  readonly registry = new Registry();
  private readonly requests = new CounterFamily(METRICS.requests.name, METRICS.requests.help);
  private readonly duration = new HistogramFamily(METRICS.duration.name, METRICS.duration.help, LATENCY_BUCKETS);
  private readonly inputTokens = new CounterFamily(METRICS.inputTokens.name, METRICS.inputTokens.help);
  private readonly outputTokens = new CounterFamily(METRICS.outputTokens.name, METRICS.outputTokens.help);
  private readonly queue = new HistogramFamily(METRICS.queueWait.name, METRICS.queueWait.help, QUEUE_BUCKETS);
  private readonly batchSize: HistogramSeries;
  private readonly batchDuration: HistogramSeries;
  private readonly answers = new Map<string, AnswerSeries>();
  private readonly piiFound: Counter;
  private readonly attempts: Counter;
  private readonly down: Counter;
  private readonly shadows: Counter;

  constructor(gauges: ScrapedGauges = {}, { processMetrics = true } = {}) {
    const r = [this.registry];
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
    const batchSize = new HistogramFamily(METRICS.batchSize.name, METRICS.batchSize.help, BATCH_SIZE_BUCKETS);
    const batchDuration = new HistogramFamily(METRICS.batchDuration.name, METRICS.batchDuration.help, LATENCY_BUCKETS);
    this.batchSize = batchSize.of('', () => ({}));
    this.batchDuration = batchDuration.of('', () => ({}));
    for (const family of [this.requests, this.duration, this.inputTokens, this.outputTokens, this.queue, batchSize, batchDuration]) register(this.registry, family);
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
    const key = `${o.method}\n${o.route}\n${o.model}\n${o.version}\n${o.status}`;
    let series = this.answers.get(key);
    if (series === undefined) this.answers.set(key, series = this.answerSeries(key, o));
    series.count.value++;
    series.duration.observe(o.seconds);
    // Token series appear with the first tokens, so that routes without a model show none.
    if (o.inputTokens > 0) (series.inputTokens ??= this.tokenSeries(this.inputTokens, o)).value += o.inputTokens;
    if (o.outputTokens > 0) (series.outputTokens ??= this.tokenSeries(this.outputTokens, o)).value += o.outputTokens;
  }

  private answerSeries(key: string, { method, route, model, version, status }: RequestObservation): AnswerSeries {
    return {
      count: this.requests.of(key, () => ({ method, route, model, version, status: String(status) })),
      duration: this.duration.of(`${route}\n${model}`, () => ({ route, model })),
    };
  }

  private tokenSeries(family: CounterFamily, { model, version }: RequestObservation): CounterSeries {
    return family.of(`${model}\n${version}`, () => ({ model, version }));
  }

  queueWait(model: string, seconds: number): void {
    this.queue.of(model, () => ({ model })).observe(seconds);
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
