/**
 * Traffic routes in the admin API, behind `Authorization: Bearer <ADMIN_TOKEN>` (off, 404, without one):
 * GET /admin/routes (every stored route), GET /admin/routes/{alias} (the route in force and its shadow comparisons;
 * both show a stored route whatever the registry says now, with what of it is stale: route-view.ts),
 * PUT /admin/routes/{alias} `{ "weights": {...}, "shadow"?: { "model", "percent" } | null }` (the whole route:
 * a 400 names the wrong field, and the route in force stays as it was), DELETE /admin/routes/{alias} (back to the
 * registry's plain alias, with what was removed; 404 no_route when none is stored; the comparison counts are kept).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { adminOnly } from '../http/admin-only.js';
import { readJsonObject } from '../http/json-body.js';
import { declareRoute, routeGroup, type RouteGroup } from '../http/route-declaration.js';
import type { RouteTargets } from './route-config.js';
import type { RouteStore } from './route-store.js';
import { deleteRoute, putRoute } from './route-changes.js';
import { readRouteView, routeView } from './route-view.js';

export interface TrafficAdminOptions {
  store: RouteStore;
  targets: RouteTargets;
  adminToken?: string;
}

const Alias = z.object({ alias: z.string() });
// Model ids may hold slashes (org/name), as on POST /models/{id}.
const ONE = { path: '/admin/routes/{alias}', routingPath: '/admin/routes/:alias{.+}' };

export function trafficAdminRoutes({ store, targets, adminToken }: TrafficAdminOptions): RouteGroup {
  const group = routeGroup();
  group.use('/admin/routes', adminOnly(adminToken));
  group.use('/admin/routes/*', adminOnly(adminToken));
  const list = createRoute({ method: 'get', path: '/admin/routes', hide: true, responses: { 200: { description: 'Every stored traffic route.' } } });
  const read = createRoute({ method: 'get', ...ONE, hide: true, request: { params: Alias }, responses: { 200: { description: 'The route in force, with its shadow comparisons.' } } });
  const write = createRoute({ method: 'put', ...ONE, hide: true, request: { params: Alias }, responses: { 200: { description: 'The route, now in force.' } } });
  const remove = createRoute({ method: 'delete', ...ONE, hide: true, request: { params: Alias }, responses: { 200: { description: "The registry's plain alias, in force again." } } });
  declareRoute(group, list, async (c) => {
    const [routes, comparisons] = await Promise.all([store.list(), store.comparisons()]);
    return c.json({ object: 'list', data: routes.map((r) => routeView(r.alias, r, comparisons.filter((x) => x.alias === r.alias), targets)) });
  });
  declareRoute(group, read, async (c) => c.json(await readRouteView(store, c.req.valid('param').alias, targets)));
  declareRoute(group, write, async (c) => {
    const { alias } = c.req.valid('param');
    return c.json(await putRoute(store, alias, await readJsonObject(c), targets));
  });
  declareRoute(group, remove, async (c) => {
    return c.json(await deleteRoute(store, c.req.valid('param').alias, targets));
  });
  return group;
}
