/**
 * The three routers bench:policies compares, each over its own engines (onnxruntime-node) so that no observer of one
 * runs in another: everything off; OpenTelemetry's API alone (the route, classify and upstream spans, no SDK: what
 * every deployment without OTEL_TRACES_EXPORTER runs); and policies + metrics on (privacy policies with a default of
 * pii=mask and traffic routes, both in SQLite, Prometheus metrics with request, queue and batch counters, the spans).
 */
import type { Hono } from 'hono';
import type { AppEnv } from '../../functions/http/request-context.js';
import { migrationsDir } from '../../functions/node/billing-setup.js';
import { buildLocalApp, readLocalRegistry } from '../../functions/node/local-app.js';
import { nodeMetrics } from '../../functions/node/node-observability.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import { PolicyStore } from '../../functions/privacy/policy-store.js';
import { RouteStore } from '../../functions/traffic/route-store.js';
import { UpstreamClient } from '../../functions/upstream/upstream-client.js';

export const WAYS = ['everything off', 'OpenTelemetry API only (no SDK)', 'policies + metrics on'] as const;

export async function buildWays(dbPath: string): Promise<{ apps: Hono<AppEnv>[]; close(): void }> {
  const registry = await readLocalRegistry();
  const db = await openSqlite(dbPath, migrationsDir);
  const observed = nodeMetrics({ registry: () => registry, upstreams: () => upstreams, usage: () => undefined }, { openWithoutToken: true });
  const upstreams: UpstreamClient = new UpstreamClient({}, observed.upstreamOptions);
  const builds = [
    () => buildLocalApp({ backend: 'node', registry }),
    () => buildLocalApp({ backend: 'node', registry, observability: {} }),
    () => buildLocalApp({
      backend: 'node', registry, app: { upstreams },
      privacy: { store: new PolicyStore(db), defaults: { pii: 'mask', retention: 'standard' } },
      traffic: { store: new RouteStore(db) },
      observability: { metrics: observed.metrics, access: observed.access },
    }),
  ];
  const apps: Hono<AppEnv>[] = [];
  for (const build of builds) apps.push((await build()).app); // one after the other: the loads do not share the cores
  return { apps, close: () => db.close() };
}
