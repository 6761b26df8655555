/** A route as the admin API and `npm run models:route` show it: its weights, shadow, and shadow comparisons. */
import { modelRef } from '../registry/registry.js';
import { routedEntry, type RouteTargets } from './route-config.js';
import type { RouteStore, ShadowComparison, StoredRoute } from './route-store.js';

export const comparisonView = (c: ShadowComparison) => ({
  model: c.model,
  shadow_model: c.shadowModel,
  compared: c.compared,
  agreed: c.agreed,
  agreement: c.compared === 0 ? null : c.agreed / c.compared,
  mean_abs_score_delta: c.compared === 0 ? null : c.scoreDeltaSum / c.compared,
  skipped: c.skipped,
});

/** The route in force for an alias: its stored route, else the registry's plain alias (all of it to one version). */
export function routeView(alias: string, stored: StoredRoute | null, comparisons: ShadowComparison[], targets: RouteTargets) {
  const weights = stored ? Object.fromEntries(stored.weights.map((w) => [w.model, w.weight])) : { [modelRef(routedEntry(alias, targets))]: 100 };
  return {
    object: 'model_route',
    alias,
    source: stored ? 'route' : 'registry',
    weights,
    shadow: stored?.shadow ?? null,
    updated_at: stored ? new Date(stored.updatedAt).toISOString() : null,
    shadow_comparisons: comparisons.map(comparisonView),
  };
}

/** One alias's view, read from the store (404 for a name the registry does not have). */
export async function readRouteView(store: RouteStore, alias: string, targets: RouteTargets) {
  routedEntry(alias, targets);
  const [stored, comparisons] = await Promise.all([store.get(alias), store.comparisons(alias)]);
  return routeView(alias, stored, comparisons, targets);
}
