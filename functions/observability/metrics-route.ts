/**
 * GET /metrics in Prometheus text format, behind a bearer token: METRICS_TOKEN, else ADMIN_TOKEN. With neither set,
 * a server that takes no API keys (open mode, a local one) serves it to anyone, and one that does answers 401: its
 * request counts per model are the operator's, never the callers'.
 */
import { createRoute } from '@hono/zod-openapi';
import { sameSecret } from '../http/admin-only.js';
import { ApiError } from '../http/errors.js';
import { declareRoute, routeGroup, type RouteGroup } from '../http/route-declaration.js';
import type { RouterMetrics } from './router-metrics.js';

export interface MetricsAccess {
  /** METRICS_TOKEN, or ADMIN_TOKEN when that is unset. */
  token?: string;
  /** Serve without a token when none is set (open mode); false: 401 until one is. */
  openWithoutToken: boolean;
}

// An operator's route, like /admin: declared (so 405s know it) but left out of the public API document.
const metricsRoute = createRoute({
  method: 'get', path: '/metrics', hide: true,
  responses: { 200: { description: 'Prometheus text exposition 0.0.4: bearer METRICS_TOKEN, else ADMIN_TOKEN.' } },
});

async function checkToken(access: MetricsAccess, authorization: string | undefined): Promise<void> {
  if (!access.token) {
    if (access.openWithoutToken) return;
    throw new ApiError(401, 'metrics need a token: set METRICS_TOKEN (or ADMIN_TOKEN) and send "Authorization: Bearer <token>"', 'authentication_error', 'metrics_token_unset');
  }
  const given = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1] ?? '';
  if (!(await sameSecret(given, access.token))) throw new ApiError(401, 'metrics need "Authorization: Bearer <METRICS_TOKEN or ADMIN_TOKEN>"', 'authentication_error', 'invalid_metrics_token');
}

export function metricsRoutes(metrics: RouterMetrics, access: MetricsAccess): RouteGroup {
  const group = routeGroup();
  declareRoute(group, metricsRoute, async (c) => {
    await checkToken(access, c.req.header('authorization'));
    const { contentType, body } = await metrics.exposition();
    return c.body(body, 200, { 'content-type': contentType, 'cache-control': 'no-store' });
  });
  return group;
}
