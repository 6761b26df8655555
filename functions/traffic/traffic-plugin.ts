/**
 * Traffic routing for an entry to compose: the router the classification routes ask which version answers
 * (AppDeps.traffic), and the plugin with its admin routes and the version header of generation answers, over one
 * route store.
 */
import type { TextClassifier } from '../engine/tasks/text-classifier.js';
import type { AppPlugin } from '../http/app-plugin.js';
import { modelRef, type ModelEntry, type Registry } from '../registry/registry.js';
import { trafficAdminRoutes } from './admin-routes.js';
import type { RouteStore } from './route-store.js';
import { TrafficRouter, type TrafficRouterOptions } from './traffic-router.js';
import { GENERATION_PATHS, versionHeader } from './version-header.js';

export interface TrafficSettings {
  store: RouteStore;
  /** Sees every shadow comparison (metrics). */
  onShadowOutcome?: TrafficRouterOptions['onShadowOutcome'];
  maxShadowsInFlight?: number;
  /** The Node server's batch lane is busy (shadow-runner.ts): shadows wait for no real request. */
  realWorkPending?: TrafficRouterOptions['realWorkPending'];
  random?: () => number;
}

export function withTraffic(settings: TrafficSettings, registry: Registry, engines: Map<string, TextClassifier>, adminToken?: string): { router: TrafficRouter; plugin: AppPlugin } {
  const classifierOf = (model: ModelEntry) => engines.get(modelRef(model));
  const router = new TrafficRouter({ ...settings, registry, classifierOf });
  const targets = { registry, servesClassifier: (model: ModelEntry) => classifierOf(model) !== undefined };
  // Only the generation routes pass an answer through without naming its version (classification names its own):
  // a middleware on every /v1/* request cost each classification about 1 µs (bench:policies).
  const middleware = GENERATION_PATHS.map((path) => ({ path, handler: versionHeader }));
  return { router, plugin: { middleware, routes: [trafficAdminRoutes({ store: settings.store, targets, adminToken })] } };
}
