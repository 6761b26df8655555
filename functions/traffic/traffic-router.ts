/**
 * Which version answers a request that names a routed alias (or names no model, when the route is the default's):
 * the caller's sticky bucket (sticky-hash.ts) over the route's weights, and with the route's shadow percent, a shadow
 * version that also runs the request (shadow-runner.ts). Whose bucket: the API key's id; without a key (open mode)
 * the `x-edge-maas-route-key` header's value (a caller's own user id, say), else the request id, which is new on
 * every request unless the client sends x-request-id: keyless callers are sticky only by one of those two. A name of
 * one version (`id@version`) is never routed; every other name of the routed registry entry is (route-config.ts). A route that names a version this deployment does not serve (gone from the registry, or no classifier loaded), or a store
 * that cannot be read, leaves the registry's plain alias in force (logged): routing never fails a request.
 */
import type { Context } from 'hono';
import type { TextClassifier } from '../engine/tasks/text-classifier.js';
import type { AppEnv } from '../http/request-context.js';
import type { LabelScore, ScoreFunction } from '../engine/classification/scores.js';
import { modelRef, type ModelEntry, type Registry } from '../registry/registry.js';
import type { RouteStore } from './route-store.js';
import { ShadowRunner, type ShadowOutcome } from './shadow-runner.js';
import { sameEntryRoute } from './route-config.js';
import { stickyBucket, versionForBucket } from './sticky-hash.js';

export const ROUTE_KEY_HEADER = 'x-edge-maas-route-key';
/** The version that answered, id@version, on every classification answer (and routed generation answers). */
export const MODEL_VERSION_HEADER = 'x-edge-maas-model-version';

export interface TrafficRouterOptions {
  store: RouteStore;
  registry: Registry;
  /** The classifier of a classification model here, for shadow runs; none: shadows are skipped. */
  classifierOf?: (model: ModelEntry) => TextClassifier | undefined;
  /** [0, 1): whether a request runs its shadow (default Math.random). */
  random?: () => number;
  maxShadowsInFlight?: number;
  /** Whether real requests' work is queued or running where shadows run (the Node server's batch lane): a shadow is then skipped. */
  realWorkPending?: () => boolean;
  /** Sees every shadow comparison (and skip) as it is stored: the metrics helper's hook. */
  onShadowOutcome?: (outcome: ShadowOutcome) => void;
}

export interface RoutedVersion {
  alias: string;
  model: ModelEntry;
  /** The shadow version this request also runs on, with its classifier; null for most requests. */
  shadow: { model: ModelEntry; classifier: TextClassifier } | null;
}

/** Whose sticky bucket a request falls in. */
export function stickySubject(c: Context<AppEnv>): string {
  const key = c.get('apiKey');
  if (key) return `key:${key.id}`;
  const given = c.req.header(ROUTE_KEY_HEADER);
  if (given !== undefined && given !== '') return `caller:${given.slice(0, 256)}`;
  return `request:${c.get('requestId')}`;
}

export class TrafficRouter {
  readonly shadows: ShadowRunner;

  private readonly random: () => number;

  private readonly warned = new Set<string>();

  constructor(private readonly options: TrafficRouterOptions) {
    this.random = options.random ?? Math.random;
    this.shadows = new ShadowRunner(options.store, options.maxShadowsInFlight, options.onShadowOutcome, options.realWorkPending);
  }

  /** The version a name means to this caller, or null where no route applies (the registry decides). */
  async route(c: Context<AppEnv>, name: string | undefined): Promise<RoutedVersion | null> {
    const { registry, store } = this.options;
    const alias = name ?? registry.defaultName;
    if (alias.includes('@')) return null;
    let routes;
    try {
      routes = await store.routes();
    } catch (error) {
      console.error(`traffic routes unreadable, the registry's aliases answer: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
    // Any unversioned spelling of the routed entry (its id, another alias, the default) follows the route, and a key's
    // bucket is the route's, so it sees one version whichever spelling it sends.
    const route = routes.get(alias) ?? sameEntryRoute(routes.values(), alias, registry);
    if (!route) return null;
    const ref = versionForBucket(route.weights, await stickyBucket(route.alias, stickySubject(c)));
    const model = registry.resolve(ref);
    const classifier = model?.task === 'text-classification' ? this.options.classifierOf?.(model) : undefined;
    if (!model || (model.task === 'text-classification' && this.options.classifierOf && !classifier)) {
      // Once per route and version, not on every request it would have served.
      const warning = `${route.alias}\n${ref}`;
      if (!this.warned.has(warning)) console.error(`traffic route ${route.alias} names ${ref}, which this deployment does not serve: the registry's alias answers`);
      this.warned.add(warning);
      return null;
    }
    return { alias: route.alias, model, shadow: this.shadowFor(route.shadow, ref) };
  }

  /** After a routed request's answer: its shadow run, when the request drew one (never delays, returns, nor bills it). */
  afterAnswer(c: Context<AppEnv>, routed: RoutedVersion | undefined, texts: string[], answered: LabelScore[][], scoreFunction: ScoreFunction): void {
    if (!routed?.shadow) return;
    const { model, classifier } = routed.shadow;
    this.shadows.start(c, { alias: routed.alias, model: modelRef(routed.model), shadowModel: modelRef(model), classifier, texts, answered, scoreFunction });
  }

  private shadowFor(setting: { model: string; percent: number } | null, answering: string): RoutedVersion['shadow'] {
    if (!setting || setting.model === answering || this.random() * 100 >= setting.percent) return null;
    const model = this.options.registry.resolve(setting.model);
    const classifier = model && this.options.classifierOf?.(model);
    return model && classifier ? { model, classifier } : null;
  }
}
