/** The router's answers when no upstream serves a request, in the OpenAI error shape; and the stream's error event. */
import { ApiError } from '../http/errors.js';
import { sseError } from '../http/sse.js';

const retryAfter = (seconds: number) => ({ 'Retry-After': String(Math.max(1, Math.ceil(seconds))) });

export const upstreamDown = (message: string) => new ApiError(502, message, 'server_error', 'upstream_error');

/** A 200 from the upstream that is not what was asked for (not JSON, or not an event stream for a streamed request). */
export const upstreamInvalidAnswer = (message: string) => new ApiError(502, message, 'server_error', 'upstream_invalid_response');

export const upstreamTimeout = (message: string) => new ApiError(504, message, 'server_error', 'upstream_timeout');

/** The upstream said 503: busy. Its Retry-After goes to the client as it was (seconds or an HTTP date). */
export function upstreamBusy(header: string | null): ApiError {
  const valid = header !== null && (/^\d+$/.test(header.trim()) || !Number.isNaN(Date.parse(header)));
  return new ApiError(503, 'the model\'s servers are overloaded; retry after the time Retry-After gives', 'server_error', 'upstream_overloaded', null, valid ? { 'Retry-After': header.trim() } : retryAfter(1));
}

export const upstreamWarming = (seconds: number) =>
  new ApiError(503, `the model's servers are starting; retry in about ${Math.ceil(seconds)} s`, 'server_error', 'upstream_warming', null, retryAfter(seconds));

export const circuitOpen = (waitMs: number) =>
  new ApiError(503, 'every upstream for this model is failing; the circuit is open', 'server_error', 'upstream_unavailable', null, retryAfter(waitMs / 1000));

// A deployment whose upstreams are all "embedded" and that runs no generation server; an operator has to act.
export const noUpstream = () =>
  new ApiError(503, 'no upstream is configured for this model', 'server_error', 'upstream_unavailable', null, retryAfter(60));

/**
 * A call pinned to a region that none of the model's upstreams is in: a 403, since no retry can change that (a 503
 * would have clients retry it at once); transient causes (the region's upstreams failing) are regionUnavailable's.
 */
export const noUpstreamInRegion = (region: string) =>
  new ApiError(403, `no upstream of this model is in region ${region}, and a request pinned to ${region} is never sent to another region: use a model served in ${region}, or an endpoint that serves this one there`,
    'invalid_request_error', 'region_not_here', 'model');

/** A call pinned to a region whose upstreams of this model each failed or have their circuit open: retry later. */

export function regionUnavailable(region: string, reason: ApiError): ApiError {
  // Busy or warming servers say when to come back: that answer is as true for a pinned call.
  if (reason.code === 'upstream_warming' || reason.code === 'upstream_overloaded') return reason;
  return new ApiError(503, `every upstream of this model in region ${region} is failing or its circuit is open, and a request pinned to ${region} is never sent to another region`,
    'server_error', 'region_unavailable', null, reason.headers['Retry-After'] ? { 'Retry-After': reason.headers['Retry-After'] } : retryAfter(1));
}

const RANK: Record<string, number> = { upstream_warming: 0, upstream_overloaded: 1, upstream_unavailable: 2 };

/** Of the reasons each upstream gave, the one most useful to the client: one that says when to come back first. */
export const mostUseful = (errors: ApiError[]): ApiError =>
  errors.reduce((best, e) => ((RANK[e.code] ?? 3) < (RANK[best.code] ?? 3) ? e : best));

export const errorEvent = (message: string, code: string) => sseError(message, 'server_error', code);
