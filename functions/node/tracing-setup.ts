/**
 * OpenTelemetry's Node SDK for the router, off unless OTEL_TRACES_EXPORTER asks for it: "otlp" sends spans over
 * OTLP/HTTP (JSON) to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces (default
 * http://localhost:4318/v1/traces; OTEL_EXPORTER_OTLP_HEADERS adds headers), "console" prints them; unset or
 * "none": no SDK, and the core's @opentelemetry/api calls stay no-ops. Registering the provider also installs the
 * AsyncLocalStorage context manager (a span follows its request across awaits) and the W3C traceparent propagator.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-node';

export const TRACE_EXPORTERS = ['none', 'otlp', 'console'] as const;

export interface Tracing {
  /** Exports what is buffered, then stops (SIGTERM, a test's end). */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  env?: Record<string, string | undefined>;
  /** Spans go here instead (tests: the SDK's InMemorySpanExporter), each as soon as it ends. */
  exporter?: SpanExporter;
}

export function exporterFromEnv(env: Record<string, string | undefined>): SpanExporter | null {
  const name = (env.OTEL_TRACES_EXPORTER ?? 'none').trim().toLowerCase();
  if (name === 'none' || name === '') return null;
  if (name === 'otlp') return new OTLPTraceExporter(); // reads the OTEL_EXPORTER_OTLP_* variables itself
  if (name === 'console') return new ConsoleSpanExporter();
  throw new Error(`OTEL_TRACES_EXPORTER must be one of ${TRACE_EXPORTERS.join(', ')}, not "${name}"`);
}

/** Registers the SDK globally when an exporter is asked for; null (and nothing registered) otherwise. */
export function startTracing({ env = process.env, exporter }: TracingOptions = {}): Tracing | null {
  const chosen = exporter ?? exporterFromEnv(env);
  if (!chosen) return null;
  const processor = exporter ? new SimpleSpanProcessor(chosen) : new BatchSpanProcessor(chosen);
  const provider = new NodeTracerProvider({ spanProcessors: [processor] });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}

/** A running server whose close() also flushes and stops the tracing SDK, when one was started. */
export function withTracing<R extends { close(): Promise<void> }>(tracing: Tracing | null, running: R): R {
  if (!tracing) return running;
  return { ...running, close: async () => { await running.close(); await tracing.shutdown(); } };
}
