/**
 * Requests no route takes: 405 with an Allow header where the route table has the path for other methods (Hono's
 * method-not-allowed middleware reads the app's routes), else 404; both in the error shape.
 */
import type { Hono, MiddlewareHandler, NotFoundHandler } from 'hono';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { ApiError, errorResponse } from '../http/errors.js';
import type { AppEnv } from '../http/request-context.js';

/** Installed after every middleware that may answer first (billing's refusals), so that billing sees the 405. */
export const methodsOfRouteTable = (app: Hono<AppEnv>): MiddlewareHandler<AppEnv> => methodNotAllowed({
  app,
  onMethodNotAllowed: (c, methods) => errorResponse(c, new ApiError(405, `${c.req.method} is not allowed on ${new URL(c.req.url).pathname}`,
    'invalid_request_error', 'method_not_allowed', null, { Allow: methods.join(', ') })),
});

export const noRoute: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(c, new ApiError(404, `no route ${c.req.method} ${new URL(c.req.url).pathname}`, 'invalid_request_error', 'not_found'));
