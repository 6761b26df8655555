/**
 * One process, three ports, each app over its own engines (onnxruntime-node) so that no observer of one runs in
 * another: everything off; OpenTelemetry's API alone (the route, classify and upstream spans, no SDK: what every
 * deployment without OTEL_TRACES_EXPORTER runs); and policies + metrics on (privacy policies with a default of
 * pii=mask, traffic routes, both in SQLite, Prometheus metrics with queue, batch and request counters, the spans).
 * Prints "listening on <url-off> <url-api> <url-on>".
 */
import { serve } from '@hono/node-server';
import { buildLocalApp, readLocalRegistry } from '../../functions/node/local-app.js';
import { migrationsDir } from '../../functions/node/billing-setup.js';
import { nodeMetrics } from '../../functions/node/node-observability.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import { PolicyStore } from '../../functions/privacy/policy-store.js';
import { RouteStore } from '../../functions/traffic/route-store.js';
import { UpstreamClient } from '../../functions/upstream/upstream-client.js';

const registry = await readLocalRegistry();
const db = await openSqlite(process.env.USAGE_DB!, migrationsDir);
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
const apps = [];
for (const build of builds) apps.push((await build()).app); // one after the other: the loads do not share the cores
const urls = await Promise.all(apps.map((app) => new Promise<string>((resolve) => {
  serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(`http://127.0.0.1:${info.port}`));
})));
console.log(`listening on ${urls.join(' ')}`);
process.once('SIGTERM', () => {
  db.close();
  process.exit(0);
});
