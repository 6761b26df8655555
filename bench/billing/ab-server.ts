/**
 * One process, two ports, one engine: the app with billing (keys, rate limits, metering into SQLite) and the same
 * app without, so that both run under the same conditions. Prints "listening on <url-off> <url-on> <key>".
 */
import { serve } from '@hono/node-server';
import { createApp } from '../../functions/app/create-app.js';
import { billingPlugin } from '../../functions/billing/billing-plugin.js';
import { createKey, createTenant, KEY_LIMIT_MAX } from '../../functions/billing/key-admin.js';
import { openBilling } from '../../functions/node/billing-setup.js';
import { loadEngines, readLocalRegistry } from '../../functions/node/local-app.js';

const registry = await readLocalRegistry();
const engines = await loadEngines(registry, 'node');
const { billing, close } = await openBilling({ mode: 'keys', dbPath: process.env.USAGE_DB! });
await createTenant(billing.store, { id: 'bench', stripe_customer_id: 'cus_bench' }, Date.now());
const { key } = await createKey(billing.store, { tenant: 'bench', rpm: KEY_LIMIT_MAX.rpm, tpm: KEY_LIMIT_MAX.tpm }, Date.now());
const apps = [createApp({ registry, engines, isReady: () => true }), createApp({ registry, engines, isReady: () => true, plugins: [billingPlugin({ billing })] })];
const urls = await Promise.all(apps.map((app) => new Promise<string>((resolve) => {
  serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(`http://127.0.0.1:${info.port}`));
})));
console.log(`listening on ${urls[0]} ${urls[1]} ${key}`);
process.once('SIGTERM', () => void close().then(() => process.exit(0)));
