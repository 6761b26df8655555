/**
 * Hono's bodyLimit with the app's 413 answer, and a client that goes away while its body is read (bodyLimit reads
 * chunked bodies itself) answered as a client error (499) instead of a server error. A plugin may give its own
 * paths a larger limit (file uploads) with its own 413 answer; every other path keeps the app's.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError, errorResponse } from './errors.js';
import { clientClosed } from './json-body.js';

/** A limit of its own for one path (exact, as c.req.path reads it), e.g. { path: '/v1/files', bytes: 32 MiB }. */
export interface PathBodyLimit {
  path: string;
  bytes: number;
  /** The 413 to answer instead of the app's body_too_large; its Connection: close is added. */
  tooLarge?: () => ApiError;
}

const bodyTooLarge = (maxBytes: number) => new ApiError(413, `the body is over ${maxBytes} bytes`, 'invalid_request_error', 'body_too_large');

export function limitedBody(maxBytes: number, tooLarge: () => ApiError = () => bodyTooLarge(maxBytes)): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      const error = tooLarge();
      // The rest of the upload is never read, so the connection cannot carry another request.
      return errorResponse(c, new ApiError(error.status, error.message, error.type, error.code, error.param, { ...error.headers, Connection: 'close' }));
    },
  });
  return async (c, next) => {
    // A sized body: what bodyLimit does too, but without reading c.req.raw.body first, which has @hono/node-server
    // build a whole Request for every request (10 % of the router's CPU per streamed completion, bench/generate/profile.ts).
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      return Number.parseInt(length, 10) > maxBytes ? limit(c, next) : next();
    }
    let reached = false;
    try {
      return await limit(c, async () => {
        reached = true;
        await next();
      });
    } catch (error) {
      // Errors of the routes below are answered inside next(); what reaches here is the upload itself failing.
      if (reached) throw error;
      // Go on with a body that fails as the upload did, so that billing still records the request (a 499 row).
      const failed = new ReadableStream<Uint8Array>({ start: (controller) => controller.error(clientClosed()) });
      c.req.raw = new Request(c.req.raw.url, { method: c.req.raw.method, headers: c.req.raw.headers, body: failed, duplex: 'half' } as RequestInit);
      return next();
    }
  };
}

/** The app's limit, or a path's own one. */
export function limitedBodies(maxBytes: number, own: readonly PathBodyLimit[]): MiddlewareHandler {
  const fallback = limitedBody(maxBytes);
  const byPath = new Map(own.map((limit) => [limit.path, limitedBody(limit.bytes, limit.tooLarge)]));
  return (c, next) => (byPath.get(c.req.path) ?? fallback)(c, next);
}
