/**
 * What the router counts, as one small interface the core calls: the Node entry implements it with prom-client
 * (node/prom-metrics.ts), the Worker with a registry of its own isolate (isolate-metrics.ts). The core never imports
 * a metrics library: prom-client reads Node's process and perf_hooks, which a Worker bundle cannot hold.
 * Names and units follow Prometheus (metric-names.ts): seconds, `_total` counters.
 */

/** One answered request: its route pattern (not the path: ids would explode the label set), model and status. */
export interface RequestObservation {
  method: string;
  route: string;
  /** The model that answered ("" for routes without one) and its version. */
  model: string;
  version: string;
  status: number;
  /** From the request's arrival to its last body byte (a stream's end). */
  seconds: number;
  inputTokens: number;
  outputTokens: number;
}

/** What the traffic router reports of one shadow run (functions/traffic/shadow-runner.ts's ShadowOutcome). */
export interface ShadowObservation {
  alias: string;
  /** id@version of the version that answered, and of the shadow. */
  model: string;
  shadowModel: string;
  compared: number;
  agreed: number;
  skipped: number;
}

/** Values read when metrics are scraped, not on the request path. */
export interface ScrapedGauges {
  /** Each upstream's circuit: closed, open or half-open. */
  breakerStates?: () => Array<{ upstream: string; state: string }>;
  /** Usage records queued and not yet written. */
  usageBacklog?: () => number;
}

export interface RouterMetrics {
  request(observation: RequestObservation): void;
  /** How long a classification waited for its batch to start. */
  queueWait(model: string, seconds: number): void;
  /** A batch of `size` texts ran, in `seconds`. */
  batch(size: number, seconds: number): void;
  /** PII values found and masked or blocked, by kind (email, phone, ...). */
  redactions(kind: string, count: number): void;
  /** One POST to a GPU upstream, by what it answered: its status code, or "error" (no connection, a reset). */
  upstreamAttempt(upstream: string, outcome: string): void;
  /** An attempt found the upstream down: it is retried (with backoff), then the next upstream is tried. */
  upstreamDown(upstream: string): void;
  /** A shadow run's texts compared with the answered version's (traffic routes): agreed on the top label, or not, or skipped. */
  shadowOutcome(outcome: ShadowObservation): void;
  /** The Prometheus text exposition, version 0.0.4. */
  exposition(): Promise<{ contentType: string; body: string }>;
}
