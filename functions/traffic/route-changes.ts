/**
 * Changing routes, for the admin API and `npm run models:route` alike: a PUT checked against the registry and the
 * other routes (one route per registry entry: a second on another name of the same entry is a 409, since a route
 * applies to every unversioned name of its entry), and a DELETE that answers what it removed.
 */
import { ApiError } from '../http/errors.js';
import { modelRef } from '../registry/registry.js';
import { parseRouteBody, sameEntryRoute, type RouteTargets } from './route-config.js';
import type { RouteStore } from './route-store.js';
import { readRouteView, routeView } from './route-view.js';

const shown = (s: string) => JSON.stringify(s.slice(0, 100));

/** Stores the route a PUT body asks for (nothing when it is refused) and answers its view. */
export async function putRoute(store: RouteStore, alias: string, body: Record<string, unknown>, targets: RouteTargets) {
  const route = parseRouteBody(alias, body, targets);
  const other = sameEntryRoute(await store.list(), alias, targets.registry);
  if (other) {
    const entry = modelRef(targets.registry.resolve(alias)!);
    throw new ApiError(409, `${shown(alias)} resolves to ${entry}, which the route on ${shown(other.alias)} already splits (a route applies to every name of its entry): change or delete that route`, 'invalid_request_error', 'route_exists', 'alias');
  }
  await store.put(route);
  return readRouteView(store, alias, targets);
}

/** Deletes an alias's stored route: what is in force now and what was removed; 404 no_route when none was stored. */
export async function deleteRoute(store: RouteStore, alias: string, targets: RouteTargets) {
  const removed = await store.get(alias);
  if (!removed || !(await store.delete(alias))) {
    const other = sameEntryRoute(await store.list(), alias, targets.registry);
    const why = other ? `; the route on ${shown(other.alias)} applies to it` : '';
    throw new ApiError(404, `no route is stored for ${shown(alias)}${why}`, 'invalid_request_error', 'no_route', 'alias');
  }
  const view = routeView(alias, null, await store.comparisons(alias), targets);
  return { ...view, deleted: true, removed: { weights: Object.fromEntries(removed.weights.map((w) => [w.model, w.weight])), shadow: removed.shadow } };
}
