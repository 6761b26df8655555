/** GET /healthz (the process is up) and GET /readyz (models loaded and warmed): for load balancers and orchestrators. */
import { createRoute, z } from '@hono/zod-openapi';
import { jsonResponse } from '../../http/openapi-responses.js';
import { declareRoute, routeGroup, type RouteGroup } from '../../http/route-declaration.js';

const Status = z.object({ status: z.string() });

const liveness = createRoute({ method: 'get', path: '/healthz', summary: 'Liveness', responses: { 200: jsonResponse(Status, 'The process is up.') } });

const readiness = createRoute({
  method: 'get', path: '/readyz', summary: 'Readiness: models loaded and warmed',
  responses: { 200: jsonResponse(Status, 'Ready to classify.'), 503: jsonResponse(Status, 'Still loading.') },
});

export function healthRoutes({ isReady }: { isReady: () => boolean }): RouteGroup {
  const group = routeGroup();
  declareRoute(group, liveness, (c) => c.json({ status: 'ok' }));
  declareRoute(group, readiness, (c) => (isReady() ? c.json({ status: 'ready' }) : c.json({ status: 'loading' }, 503)));
  return group;
}
