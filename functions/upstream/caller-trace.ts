/**
 * The caller's W3C trace context, passed on to GPU upstreams where no OpenTelemetry SDK runs (the Worker, a Node server
 * without OTEL_TRACES_EXPORTER, Lambda): vLLM then continues the caller's trace. Only a well-formed traceparent
 * (https://www.w3.org/TR/trace-context/#traceparent-header) is sent on, with its tracestate when that is well-formed
 * too; a malformed one is dropped, as the specification tells a receiver to. Where an SDK records the upstream call,
 * that span's own context (a child of the caller's) goes instead (observability/upstream-span.ts).
 *
 * Without an SDK there is no async context to carry the header from the request to its upstream attempts, so it is
 * kept by the request's AbortSignal, the one thing of the request that the upstream client is handed.
 * A tracestate is free text of the caller's (an e-mail address fits its grammar), so it goes on only where the
 * request's privacy policy lets text leave unredacted (pii=off); the traceparent is hex and always goes.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/request-context.js';

type TraceHeaders = Record<string, string>;

/** Read at each attempt: the privacy policy is known only once its plugin has run, after this middleware. */
const callerTraces = new WeakMap<AbortSignal, () => TraceHeaders>();

const HEX = /^[0-9a-f]+$/;
const isZero = (hex: string) => /^0+$/.test(hex);

/**
 * A traceparent as it may be sent on, or undefined when it is malformed: version 00 exactly as received; a later
 * version (whose first four fields keep version 00's layout) rewritten as version 00, the one this router speaks.
 */
export function validTraceparent(value: string | null | undefined): string | undefined {
  if (!value || value.length < 55) return undefined;
  const version = value.slice(0, 2);
  if (!HEX.test(version) || version === 'ff' || value[2] !== '-') return undefined;
  if (version === '00' && value.length !== 55) return undefined;
  if (value.length > 55 && value[55] !== '-') return undefined;
  const traceId = value.slice(3, 35);
  const parentId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (value[35] !== '-' || value[52] !== '-') return undefined;
  if (traceId.length !== 32 || !HEX.test(traceId) || isZero(traceId)) return undefined;
  if (parentId.length !== 16 || !HEX.test(parentId) || isZero(parentId)) return undefined;
  if (!HEX.test(flags)) return undefined;
  if (version === '00') return value;
  // A later version's flags may mean more than version 00's: only the sampled bit is known to keep its meaning.
  return `00-${traceId}-${parentId}-0${(parseInt(flags, 16) & 1).toString(16)}`;
}

const SIMPLE_KEY = /^[a-z][a-z0-9_\-*/]{0,255}$/;
const TENANT_KEY = /^[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13}$/;
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
const MAX_MEMBERS = 32;
/** The specification asks a vendor to pass on at least 512 characters; longer is refused, not cut. */
const MAX_TRACESTATE = 512;

/** A tracestate as it may be sent on (its list members trimmed), or undefined when any member is malformed. */
export function validTracestate(value: string | null | undefined): string | undefined {
  if (!value || value.length > MAX_TRACESTATE) return undefined;
  const members = value.split(',').map((m) => m.trim()).filter((m) => m !== '');
  if (members.length === 0 || members.length > MAX_MEMBERS) return undefined;
  const keys = new Set<string>();
  for (const member of members) {
    const eq = member.indexOf('=');
    const key = member.slice(0, eq);
    if (eq <= 0 || !(SIMPLE_KEY.test(key) || TENANT_KEY.test(key)) || !VALUE.test(member.slice(eq + 1)) || keys.has(key)) return undefined;
    keys.add(key);
  }
  return members.join(',');
}

/** The trace headers of a request, as they may be sent on; none when its traceparent is missing or malformed. */
export function callerTraceHeaders(headers: Headers): TraceHeaders {
  const traceparent = validTraceparent(headers.get('traceparent'));
  if (!traceparent) return {};
  const tracestate = validTracestate(headers.get('tracestate'));
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** Keeps the caller's trace headers for the request's upstream attempts (on the routes that reach an upstream). */
export function callerTrace(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.header('traceparent') !== undefined) {
      const { traceparent, tracestate } = callerTraceHeaders(c.req.raw.headers);
      if (traceparent) {
        callerTraces.set(c.req.raw.signal, (): TraceHeaders => (tracestate && (c.get('privacy')?.pii ?? 'off') === 'off' ? { traceparent, tracestate } : { traceparent }));
      }
    }
    await next();
  };
}

/** What an attempt sends: the upstream span's headers when an SDK made them, else the caller's own. */
export function upstreamTraceHeaders(spanHeaders: TraceHeaders, clientSignal: AbortSignal): TraceHeaders {
  const caller = callerTraces.get(clientSignal)?.();
  if (!spanHeaders.traceparent) return { ...caller, ...spanHeaders };
  // An SDK's span carries the caller's tracestate on: it goes only where the caller's own would (pii=off).
  if (spanHeaders.tracestate !== undefined && caller?.tracestate === undefined) return { traceparent: spanHeaders.traceparent };
  return spanHeaders;
}
