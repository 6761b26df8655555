/**
 * One process, three ports: the routers of ways.ts served over HTTP by @hono/node-server, as `npm start` serves.
 * Prints "listening on <url-off> <url-api> <url-on>".
 */
import { serve } from '@hono/node-server';
import { buildWays } from './ways.js';

const { apps, close } = await buildWays(process.env.USAGE_DB!);
const urls = await Promise.all(apps.map((app) => new Promise<string>((resolve) => {
  serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(`http://127.0.0.1:${info.port}`));
})));
console.log(`listening on ${urls.join(' ')}`);
process.once('SIGTERM', () => {
  close();
  process.exit(0);
});
