/**
 * The metric names, help texts and buckets both implementations expose, so that a dashboard reads the Node server
 * and the Worker alike.
 */
export const METRICS = {
  requests: { name: 'edge_maas_http_requests_total', help: 'Requests answered, by method, route pattern, model, version and status.', labels: ['method', 'route', 'model', 'version', 'status'] },
  duration: { name: 'edge_maas_http_request_duration_seconds', help: 'Time from a request\'s arrival to its answer\'s last byte.', labels: ['route', 'model'] },
  inputTokens: { name: 'edge_maas_input_tokens_total', help: 'Tokens read by the models, by model and version.', labels: ['model', 'version'] },
  outputTokens: { name: 'edge_maas_output_tokens_total', help: 'Tokens generated, by model and version.', labels: ['model', 'version'] },
  queueWait: { name: 'edge_maas_classify_queue_wait_seconds', help: 'Time a classification waited in its model\'s queue before its batch started.', labels: ['model'] },
  batchSize: { name: 'edge_maas_classify_batch_size', help: 'Texts per session.run of the edge classifiers.', labels: [] },
  batchDuration: { name: 'edge_maas_classify_batch_duration_seconds', help: 'Run time of one batch of the edge classifiers.', labels: [] },
  redactions: { name: 'edge_maas_pii_redactions_total', help: 'Personal data values found by the privacy policy (masked or blocked), by kind.', labels: ['kind'] },
  upstreamAttempts: { name: 'edge_maas_upstream_attempts_total', help: 'POSTs to GPU upstreams (retries included), by upstream and outcome: the status code, or error (no connection, a reset).', labels: ['upstream', 'outcome'] },
  upstreamDown: { name: 'edge_maas_upstream_down_attempts_total', help: 'Attempts that found an upstream down (no connection, a 5xx but 503/504): each is retried with backoff, then the next upstream is tried, and counts against its circuit breaker.', labels: ['upstream'] },
  shadowTexts: { name: 'edge_maas_shadow_texts_total', help: 'Texts a shadow version ran beside the answered one, by alias, answered model, shadow model and result (agreed on the top label, disagreed, skipped).', labels: ['alias', 'model', 'shadow', 'result'] },
  breakerState: { name: 'edge_maas_upstream_circuit_state', help: 'Each upstream\'s circuit breaker: 1 for its current state (closed, open, half-open), 0 for the others.', labels: ['upstream', 'state'] },
  usageBacklog: { name: 'edge_maas_usage_writer_backlog', help: 'Usage records queued and not yet written to the billing store.', labels: [] },
} as const;

export const CIRCUIT_STATES = ['closed', 'open', 'half-open'] as const;

/** Seconds: 0.5 ms to 30 s, the spread of a warm classification to a long generation. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
export const QUEUE_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3];
export const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
