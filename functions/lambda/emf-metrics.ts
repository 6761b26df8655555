/**
 * RouterMetrics that also write one CloudWatch Embedded Metric Format line per answered request (after its last byte)
 * for CloudWatch Logs to turn into metrics of the whole function: no API call, no permission, no SDK. Each line is
 * Duration in seconds (its SampleCount is the request count), TokensIn and TokensOut, by Route and Status and by Model
 * (id@version, so that a canary's versions are two values). Everything else goes to the inner metrics alone (the
 * execution environment's /metrics). Every byte is paid for on every request (CloudWatch Logs ingestion): the names
 * are short, the counts have no Unit (None), and the line is about 340 bytes.
 * The line is written to stdout directly: with Lambda's JSON log format, console.log would wrap it in a message field,
 * where CloudWatch no longer finds the metrics.
 */
import type { RequestObservation, RouterMetrics, ShadowObservation } from '../observability/router-metrics.js';

export const EMF_NAMESPACE = 'edge-maas';

const DIRECTIVE = (namespace: string) => ({
  Namespace: namespace,
  Dimensions: [['Route', 'Status'], ['Model']],
  Metrics: [{ Name: 'Duration', Unit: 'Seconds' }, { Name: 'TokensIn' }, { Name: 'TokensOut' }],
});

/** One request as an EMF log line (newline included). Dimension values are never empty (CloudWatch refuses those). */
export function emfLine(o: RequestObservation, at: number, namespace = EMF_NAMESPACE): string {
  return `${JSON.stringify({
    _aws: { Timestamp: at, CloudWatchMetrics: [DIRECTIVE(namespace)] },
    Route: `${o.method} ${o.route}`, Status: String(o.status), Model: o.model ? (o.version ? `${o.model}@${o.version}` : o.model) : 'none',
    // 0.1 ms is finer than any alarm reads, and each digit is a byte of every request's log.
    Duration: Math.round(o.seconds * 10_000) / 10_000, TokensIn: o.inputTokens, TokensOut: o.outputTokens,
  })}\n`;
}

export class EmfRouterMetrics implements RouterMetrics {
  constructor(
    private readonly inner: RouterMetrics,
    private readonly write: (line: string) => void,
    private readonly namespace = EMF_NAMESPACE,
    private readonly now: () => number = Date.now,
  ) {}

  request(o: RequestObservation): void {
    this.inner.request(o);
    try {
      this.write(emfLine(o, this.now(), this.namespace));
    } catch {
      // a log that cannot be written must not fail the request it describes
    }
  }

  queueWait(model: string, seconds: number): void {
    this.inner.queueWait(model, seconds);
  }

  batch(size: number, seconds: number): void {
    this.inner.batch(size, seconds);
  }

  redactions(kind: string, count: number): void {
    this.inner.redactions(kind, count);
  }

  upstreamAttempt(upstream: string, outcome: string): void {
    this.inner.upstreamAttempt(upstream, outcome);
  }

  upstreamDown(upstream: string): void {
    this.inner.upstreamDown(upstream);
  }

  shadowOutcome(outcome: ShadowObservation): void {
    this.inner.shadowOutcome(outcome);
  }

  exposition(): Promise<{ contentType: string; body: string }> {
    return this.inner.exposition();
  }
}
