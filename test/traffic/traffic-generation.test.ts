/**
 * A routed generation alias: two gpu-upstream versions of one model, each served by its own real HTTP upstream on
 * 127.0.0.1 that records which model name it was asked for, behind the real router app on a real port with its
 * routes in an SQLite file. Each caller (the x-edge-maas-route-key of open mode) reaches one version, streamed or
 * not; the answer's header names it, and a shadow is refused for generation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app/create-app.js';
import { migrationsDir } from '../../functions/node/billing-setup.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import { Registry } from '../../functions/registry/registry.js';
import { RouteStore } from '../../functions/traffic/route-store.js';
import { withTraffic } from '../../functions/traffic/traffic-plugin.js';
import { UpstreamClient } from '../../functions/upstream/upstream-client.js';
import { ADMIN, tempDb } from '../billing/helpers.js';
import { onCleanup, rawUpstream, stopAfterEach } from '../generation/upstream-helpers.js';

stopAfterEach();

/** An upstream that answers every completion, streamed or not, and records the model name each asked for. */
async function recordingUpstream(asked: string[]) {
  return rawUpstream((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
    req.on('end', () => {
      const request = JSON.parse(body) as { model: string; stream?: boolean };
      asked.push(request.model);
      const usage = { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 };
      const base = { id: 'cmpl-1', object: 'text_completion', created: 1, model: request.model };
      if (!request.stream) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...base, choices: [{ index: 0, text: ' there', finish_reason: 'stop' }], usage }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, text: ' there', finish_reason: 'stop' }], usage })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
}

let db: Awaited<ReturnType<typeof tempDb>>;
let sqlite: Awaited<ReturnType<typeof openSqlite>>;
beforeAll(async () => {
  db = await tempDb();
  sqlite = await openSqlite(db.path, migrationsDir);
});
afterAll(async () => {
  sqlite?.close();
  await db?.remove();
});

async function routedRouter(first: string, second: string): Promise<string> {
  const version = (v: string, url: string) => ({
    id: 'story', version: v, task: 'text-generation', runtime: 'gpu-upstream', max_tokens: 64,
    upstreams: [{ url, model: `story-v${v}` }], price: { request_micro_usd: 0, input_token_micro_usd: 0, output_token_micro_usd: 0 },
  });
  const registry = Registry.parse({ default: 'story', models: [version('1', first), version('2', second)] });
  const traffic = withTraffic({ store: new RouteStore(sqlite) }, registry, new Map(), ADMIN);
  const app = createApp({ registry, engines: new Map(), isReady: () => true, upstreams: new UpstreamClient(), plugins: [traffic.plugin], traffic: traffic.router });
  return new Promise<string>((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(`http://127.0.0.1:${info.port}`)) as Server;
    onCleanup(() => new Promise<void>((done) => { server.closeAllConnections(); server.close(() => done()); }));
  });
}

describe('a routed generation alias', () => {
  it('sends each caller to one version, streamed or not, and names it in the answer', async () => {
    const asked: string[] = [];
    const [v1, v2] = [await recordingUpstream(asked), await recordingUpstream(asked)];
    const url = await routedRouter(v1.url, v2.url);
    const admin = (body: unknown) => fetch(`${url}/admin/routes/story`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await admin({ weights: { 'story@1': 50, 'story@2': 50 } })).status).toBe(200);
    const shadow = await admin({ weights: { 'story@1': 100 }, shadow: { model: 'story@2', percent: 5 } });
    expect(shadow.status).toBe(400);
    expect(((await shadow.json()) as { error: { param: string } }).error.param).toBe('shadow');
    const perCaller = new Map<string, Set<string>>();
    for (let caller = 0; caller < 30; caller++) {
      for (const stream of [false, true]) {
        const res = await fetch(`${url}/v1/completions`, {
          method: 'POST', headers: { 'content-type': 'application/json', 'x-edge-maas-route-key': `user-${caller}` },
          body: JSON.stringify({ model: 'story', prompt: 'Hello', max_tokens: 4, stream }),
        });
        expect(res.status).toBe(200);
        const text = await res.text();
        const version = res.headers.get('x-edge-maas-model-version')!;
        expect(['story@1', 'story@2']).toContain(version);
        expect(asked.at(-1)).toBe(`story-v${version.slice(-1)}`); // the upstream of that version got it
        expect(text).toContain(`"model":"story-v${version.slice(-1)}"`);
        perCaller.set(`user-${caller}`, (perCaller.get(`user-${caller}`) ?? new Set()).add(version));
      }
    }
    expect([...perCaller.values()].every((v) => v.size === 1)).toBe(true);
    expect(new Set([...perCaller.values()].map((v) => [...v][0]))).toEqual(new Set(['story@1', 'story@2']));
    expect(v1.posts + v2.posts).toBe(60);
    // A request naming one version is not routed.
    const pinned = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'story@1', prompt: 'Hi', max_tokens: 4 }) });
    expect(pinned.headers.get('x-edge-maas-model-version')).toBe('story@1');
  });
});
