/**
 * A route as the admin API and `npm run models:route` show it: its weights, shadow, and shadow comparisons, and
 * what of it is stale: a version this deployment does not serve (gone from the registry after a restart, or no
 * classifier loaded). A request whose bucket draws a stale version gets the registry's plain alias
 * (`registry_model`; null: the registry has no such name, a 404), and a stale shadow never runs. A stored route is
 * shown and deletable whatever the registry says of its alias.
 */
import { modelRef } from '../registry/registry.js';
import { routedEntry, sameEntryRoute, servesVersion, type RouteTargets } from './route-config.js';
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

function staleNote(stored: StoredRoute, stale: string[], registryModel: string | null): string | null {
  if (stale.length === 0) return null;
  const parts: string[] = [];
  const weighted = stored.weights.filter((w) => w.weight > 0 && stale.includes(w.model)).map((w) => w.model);
  if (weighted.length > 0) {
    parts.push(`${weighted.join(', ')} not served here: the requests drawn to ${weighted.length === 1 ? 'it' : 'them'} get ${registryModel ?? 'a 404 (the registry has no such name)'}`);
  }
  if (stored.shadow && stale.includes(stored.shadow.model)) parts.push(`the shadow ${stored.shadow.model} is not served here and never runs`);
  return parts.length > 0 ? parts.join('; ') : `${stale.join(', ')} not served here (weight 0)`;
}

/** The route in force for an alias: its stored route, else the registry's plain alias (all of it to one version). */
export function routeView(alias: string, stored: StoredRoute | null, comparisons: ShadowComparison[], targets: RouteTargets) {
  const entry = targets.registry.resolve(alias);
  const registryModel = entry ? modelRef(entry) : null;
  const weights = stored ? Object.fromEntries(stored.weights.map((w) => [w.model, w.weight])) : registryModel ? { [registryModel]: 100 } : {};
  const named = stored ? [...stored.weights.map((w) => w.model), ...(stored.shadow ? [stored.shadow.model] : [])] : [];
  const stale = [...new Set(named)].filter((ref) => !servesVersion(ref, targets));
  return {
    object: 'model_route',
    alias,
    source: stored ? 'route' : registryModel ? 'registry' : 'none',
    weights,
    shadow: stored?.shadow ?? null,
    updated_at: stored ? new Date(stored.updatedAt).toISOString() : null,
    registry_model: registryModel,
    stale,
    stale_note: stored ? staleNote(stored, stale, registryModel) : null,
    shadow_comparisons: comparisons.map(comparisonView),
  };
}

/**
 * One alias's view, read from the store: a stored route whatever the registry says; else the route stored under
 * another name of the same entry, which applies to this one (its view, under its alias); else the registry's alias
 * (404 for a name the registry does not have).
 */
export async function readRouteView(store: RouteStore, alias: string, targets: RouteTargets) {
  const stored = await store.get(alias);
  if (stored) return routeView(alias, stored, await store.comparisons(alias), targets);
  routedEntry(alias, targets);
  const other = sameEntryRoute(await store.list(), alias, targets.registry);
  if (other) return routeView(other.alias, other, await store.comparisons(other.alias), targets);
  return routeView(alias, null, await store.comparisons(alias), targets);
}
