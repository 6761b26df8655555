/**
 * The router's OpenTelemetry tracer. @opentelemetry/api alone is a no-op (no SDK registered: spans do not record,
 * the context does not propagate), so the core always calls it; the Node entry registers an SDK and an exporter
 * when OTEL_TRACES_EXPORTER asks for one (node/tracing-setup.ts).
 */
import { trace, type Tracer } from '@opentelemetry/api';

export const TRACER_NAME = 'edge-maas';

/** Looked up per use: a provider registered after the app was built (tests, the entry) still gets the spans. */
export const tracer = (): Tracer => trace.getTracer(TRACER_NAME);

/** Epoch milliseconds of a performance.now() reading, as span start and end times take them. */
export const epochMs = (performanceMs: number): number => performance.timeOrigin + performanceMs;
