/**
 * Hono's bodyLimit with the app's 413 answer, and a client that goes away while its body is read (bodyLimit reads
 * chunked bodies itself) answered as a client error (499) instead of a server error.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError, errorResponse } from './errors.js';
import { clientClosed } from './json-body.js';

export function limitedBody(maxBytes: number): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    // The rest of the upload is never read, so the connection cannot carry another request.
    onError: (c) => errorResponse(c, new ApiError(413, `the body is over ${maxBytes} bytes`, 'invalid_request_error', 'body_too_large', null, { Connection: 'close' })),
  });
  return async (c, next) => {
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
