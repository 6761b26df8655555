/**
 * Node entry: `npm start` serves the registry's edge models and the embedded generation server on 127.0.0.1:8787.
 * HOST, PORT, ORT_BACKEND=node|wasm (default node: onnxruntime-node, or WASM with a warning where it cannot load),
 * MICRO_BATCHING, EMBEDDED_GENERATION, GENERATION_UPSTREAM_URL, EDGE_MAAS_AUTH, ADMIN_TOKEN, BILLING,
 * CLASSIFY_MAX_QUEUE_MS, CORS_ORIGINS, UPSTREAM_IDLE_TIMEOUT_MS, EDGE_MAAS_REGION, FINE_TUNING(_*), METRICS, METRICS_TOKEN
 * and OTEL_TRACES_EXPORTER (with OpenTelemetry's OTEL_EXPORTER_OTLP_* variables) configure it (README).
 * V8_OPTIMIZE_FOR_SIZE=on (npm start's default, start.mjs) switches V8 to --optimize-for-size once the server listens.
 */
import { setFlagsFromString } from 'node:v8';
import { corsOriginsFrom } from '../app/create-app.js';
import { DEFAULT_MAX_QUEUE_MS } from '../engine/classification/micro-batcher.js';
import { DEFAULT_UPSTREAM_POLICY } from '../upstream/upstream-policy.js';
import { choiceFromEnv, intFromEnv, runEntry, urlFromEnv } from './entry.js';
import { DEFAULT_ORT_BACKEND, ENGINE_OF } from './ort-backend.js';
import { DEFAULT_PORT, startServer } from './start-server.js';
import { tuningSettingsFromEnv } from './tuning-setup.js';
import type { Tracing } from './tracing-setup.js';

/**
 * OpenTelemetry's SDK (about a quarter of the bundle, which a start compiles and evaluates) is imported only when
 * OTEL_TRACES_EXPORTER asks for an exporter; tracing-setup.ts judges the value, as before ("none" or unset: no SDK).
 */
async function startTracingFromEnv(): Promise<Tracing | null> {
  const asked = (process.env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase();
  return asked === '' || asked === 'none' ? null : (await import('./tracing-setup.js')).startTracing();
}

/** Stops tracing after the server, when it was started. */
const withTracing = <R extends { close(): Promise<void> }>(tracing: Tracing | null, running: R): R =>
  tracing ? { ...running, close: async () => { await running.close(); await tracing.shutdown(); } } : running;

const started = performance.now();
let optimizeForSize = false;
runEntry(
  async () => {
    optimizeForSize = choiceFromEnv('V8_OPTIMIZE_FOR_SIZE', ['on', 'off'], 'off') === 'on';
    return withTracing(await startTracingFromEnv(), await startServer({
      port: intFromEnv('PORT', DEFAULT_PORT, 0),
      host: process.env.HOST,
      // Unset: the default, which falls back to WASM where onnxruntime-node cannot load; set: exactly that backend.
      backend: process.env.ORT_BACKEND ? choiceFromEnv('ORT_BACKEND', ['node', 'wasm'], DEFAULT_ORT_BACKEND) : undefined,
      batching: choiceFromEnv('MICRO_BATCHING', ['on', 'off'], 'on') === 'on',
      generation: choiceFromEnv('EMBEDDED_GENERATION', ['on', 'off'], 'on') === 'on',
      generationUrl: urlFromEnv('GENERATION_UPSTREAM_URL'),
      auth: choiceFromEnv('EDGE_MAAS_AUTH', ['open', 'keys'], 'open'),
      adminToken: process.env.ADMIN_TOKEN || undefined,
      billing: choiceFromEnv('BILLING', ['on', 'off'], 'on') === 'on',
      classifyMaxQueueMs: intFromEnv('CLASSIFY_MAX_QUEUE_MS', DEFAULT_MAX_QUEUE_MS, 1),
      corsOrigins: corsOriginsFrom(process.env.CORS_ORIGINS),
      upstreamIdleTimeoutMs: intFromEnv('UPSTREAM_IDLE_TIMEOUT_MS', DEFAULT_UPSTREAM_POLICY.idleTimeoutMs, 1),
      fineTuning: tuningSettingsFromEnv(),
      region: process.env.EDGE_MAAS_REGION || undefined,
      metrics: choiceFromEnv('METRICS', ['on', 'off'], 'on') === 'on',
      metricsToken: process.env.METRICS_TOKEN || undefined,
    }));
  },
  (running) => {
    // Once started: a smaller young generation and slower heap growth (lower peak RSS under load); from the first
    // line, its extra garbage collections cost the start ~100 ms of CPU (bench/cold-start).
    if (optimizeForSize) setFlagsFromString('--optimize-for-size');
    const generating = running.generationUrl ? `; generation server ${running.generationUrl}` : '';
    console.log(`edge-maas listening on ${running.url} (models: ${[...running.engines.keys()].join(', ')} on ${ENGINE_OF[running.backend]}${generating}; ready in ${(performance.now() - started).toFixed(0)} ms)`);
    if (running.billing?.mode === 'open') console.log('open mode: no API keys are required; requests are metered without a key (EDGE_MAAS_AUTH=keys requires them)');
    if (running.billing?.mode === 'keys') console.log(`API keys required; admin API ${process.env.ADMIN_TOKEN ? 'on' : 'off (set ADMIN_TOKEN)'}`);
  },
);
