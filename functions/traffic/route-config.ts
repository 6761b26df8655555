/**
 * A traffic route: an alias (or bare model id) of the registry split between model versions by weight, and an
 * optional shadow version that a share of requests also runs. The admin API and `npm run models:route` take it as
 * `{ "weights": { "sst2-glove-bilstm@2": 90, "sst2-bert@3": 10 }, "shadow": { "model": "...", "percent": 5 } }`;
 * anything wrong is a 400 naming the field, before anything is stored.
 */
import { ApiError, invalidRequest } from '../http/errors.js';
import { canonicalOrder, type WeightedVersion } from './sticky-hash.js';
import { modelRef, type ModelEntry, type Registry, type Task } from '../registry/registry.js';

export type { WeightedVersion } from './sticky-hash.js';

export interface ShadowSetting {
  model: string;
  /** The share of the route's requests (0 to 100, fractions allowed) that also run on the shadow version. */
  percent: number;
}

export interface TrafficRoute {
  alias: string;
  weights: WeightedVersion[];
  shadow: ShadowSetting | null;
}

/** What a route may name: the registry, and which of its classifiers this deployment has loaded. */
export interface RouteTargets {
  registry: Registry;
  /** Whether a text-classification entry has a classifier here (a Worker may bundle only some). Default: all. */
  servesClassifier?: (entry: ModelEntry) => boolean;
}

const ROUTABLE: Task[] = ['text-classification', 'text-generation'];
const FIELDS = ['weights', 'shadow'];
const SHADOW_FIELDS = ['model', 'percent'];
const MAX_VERSIONS = 16;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (s: string) => JSON.stringify(s.slice(0, 100));

/** The registry entry an alias names today, which a route replaces; 404 when the registry has no such name. */
export function routedEntry(alias: string, { registry }: RouteTargets): ModelEntry {
  if (alias.includes('@')) throw invalidRequest(`${shown(alias)} names one version; a route splits an alias or a bare model id`, 'alias', 'invalid_alias');
  const entry = registry.resolve(alias);
  if (!entry) throw new ApiError(404, `the registry has no alias or model ${shown(alias)}`, 'invalid_request_error', 'model_not_found', 'alias');
  if (!ROUTABLE.includes(entry.task)) throw invalidRequest(`${shown(alias)} is a ${entry.task} model, which no request is routed to`, 'alias', 'wrong_task');
  return entry;
}

/** A version a route may send the alias's requests to: in the registry, of the alias's task, served here. */
function target(name: string, task: Task, param: string, targets: RouteTargets): ModelEntry {
  const entry = targets.registry.resolve(name);
  if (!entry) throw invalidRequest(`${param}: the registry has no model ${shown(name)}`, param, 'model_not_found');
  if (entry.task !== task) throw invalidRequest(`${param}: ${modelRef(entry)} is a ${entry.task} model; this alias is ${task}`, param, 'wrong_task');
  if (task === 'text-classification' && targets.servesClassifier && !targets.servesClassifier(entry)) {
    throw invalidRequest(`${param}: ${modelRef(entry)} has no classifier loaded on this deployment`, param, 'model_not_served');
  }
  if (task === 'text-generation' && entry.runtime !== 'gpu-upstream') throw invalidRequest(`${param}: ${modelRef(entry)} is not a gpu-upstream model`, param, 'wrong_runtime');
  return entry;
}

function parseWeights(raw: unknown, task: Task, targets: RouteTargets): WeightedVersion[] {
  if (!isObject(raw) || Object.keys(raw).length === 0) throw invalidRequest('weights must be an object of model versions to integer weights summing to 100', 'weights', 'invalid_weights');
  const names = Object.keys(raw);
  if (names.length > MAX_VERSIONS) throw invalidRequest(`weights names ${names.length} versions; at most ${MAX_VERSIONS}`, 'weights', 'invalid_weights');
  const weights: WeightedVersion[] = [];
  for (const name of names) {
    const param = `weights.${name.slice(0, 100)}`;
    const weight = raw[name];
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > 100) {
      throw invalidRequest(`${param} must be an integer from 0 to 100`, param, 'invalid_weight');
    }
    const model = modelRef(target(name, task, param, targets));
    if (weights.some((w) => w.model === model)) throw invalidRequest(`${param}: ${model} is named twice`, param, 'duplicate_version');
    weights.push({ model, weight });
  }
  const sum = weights.reduce((total, w) => total + w.weight, 0);
  if (sum !== 100) throw invalidRequest(`weights sum to ${sum}; they must sum to 100`, 'weights', 'weights_not_100');
  return canonicalOrder(weights);
}

function parseShadow(raw: unknown, task: Task, targets: RouteTargets): ShadowSetting | null {
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw)) throw invalidRequest('shadow must be an object { "model": ..., "percent": ... } or null', 'shadow', 'invalid_shadow');
  for (const name of Object.keys(raw)) {
    if (!SHADOW_FIELDS.includes(name)) throw invalidRequest(`unknown field "shadow.${name.slice(0, 40)}"; a shadow has model and percent`, `shadow.${name.slice(0, 40)}`, 'unknown_field');
  }
  // Generation has no answer to compare label by label: a shadow there would only cost GPU time.
  if (task !== 'text-classification') throw invalidRequest('shadow traffic is for classification aliases only', 'shadow', 'shadow_not_supported');
  if (typeof raw.model !== 'string' || raw.model === '') throw invalidRequest('shadow.model must name a model version', 'shadow.model', 'invalid_shadow');
  const model = modelRef(target(raw.model, task, 'shadow.model', targets));
  const percent = raw.percent;
  if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
    throw invalidRequest('shadow.percent must be a number from 0 to 100', 'shadow.percent', 'invalid_percent');
  }
  return { model, percent };
}

/** The route a PUT body asks for, checked against the registry; nothing is stored before it passes. */
export function parseRouteBody(alias: string, body: Record<string, unknown>, targets: RouteTargets): TrafficRoute {
  const { task } = routedEntry(alias, targets);
  for (const name of Object.keys(body)) {
    if (!FIELDS.includes(name)) throw invalidRequest(`unknown field "${name.slice(0, 40)}"; a route has weights and shadow`, name.slice(0, 40), 'unknown_field');
  }
  if (body.weights === undefined) throw invalidRequest('weights is required', 'weights', 'invalid_weights');
  const weights = parseWeights(body.weights, task, targets);
  const shadow = parseShadow(body.shadow, task, targets);
  // A request never shadows the version that answered it: a shadow that every answering version equals never runs.
  if (shadow && weights.every((w) => w.weight === 0 || w.model === shadow.model)) {
    throw invalidRequest(`shadow.model: ${shadow.model} answers every request of this route, so it would never run as its shadow; a shadow must differ from at least one version with a weight above 0`, 'shadow.model', 'shadow_never_runs');
  }
  return { alias, weights, shadow };
}

/** Whether this deployment can answer with (or shadow on) a stored version: the router's own test, for the views. */
export function servesVersion(ref: string, targets: RouteTargets): boolean {
  const entry = targets.registry.resolve(ref);
  if (!entry) return false;
  return entry.task !== 'text-classification' || !targets.servesClassifier || targets.servesClassifier(entry);
}

/**
 * The route that applies to `name` though stored under another name of the same registry entry (a route on
 * `sentiment` applies to `sst2-glove-bilstm` and to the default when they resolve to the same version): a route
 * splits the entry an unversioned name resolves to, whichever spelling a request uses. Undefined for id@version.
 */
export function sameEntryRoute<R extends TrafficRoute>(routes: Iterable<R>, name: string, registry: Registry): R | undefined {
  if (name.includes('@')) return undefined;
  const entry = registry.resolve(name);
  if (!entry) return undefined;
  for (const route of routes) if (route.alias !== name && registry.resolve(route.alias) === entry) return route;
  return undefined;
}
