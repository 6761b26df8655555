// A busy upstream (503 + Retry-After) is not a failing one (issue 17, defect 6): the client gets the 503 and its
// Retry-After in the OpenAI error shape, the same upstream is not asked again, the next one in the registry is,
// and the breaker never opens on "busy". Also: no upstream configured at all is a 503 with Retry-After.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app/create-app.js';
import { UpstreamClient } from '../../functions/upstream/upstream-client.js';
import { Registry } from '../../functions/registry/registry.js';
import { startGenerationServer, type RunningGenerationServer } from '../../functions/node/start-generation-server.js';
import { complete, errorOf, rawUpstream, router, stopAfterEach } from './upstream-helpers.js';

const POLICY = { connectTimeoutMs: 1_000, retries: 1, backoffMs: 10, breaker: { failureThreshold: 2, openMs: 10_000 } };
stopAfterEach();

let live: RunningGenerationServer;
beforeAll(async () => {
  live = await startGenerationServer({ port: 0 });
});
afterAll(() => live.close());

const busyUpstream = () => rawUpstream((_req, res) => {
  res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '7' })
    .end(JSON.stringify({ error: { message: 'the model is overloaded: its queue is full', type: 'server_error', code: 'overloaded', param: null } }));
});

describe('an upstream that answers 503 with Retry-After', () => {
  it('passes the 503 and its Retry-After to the client, asks it once per request, and never opens its circuit', async () => {
    const busy = await busyUpstream();
    const { url, client } = await router([busy.url], { policy: POLICY });
    for (const stream of [false, true, false, false]) {
      const response = await complete(url, { max_tokens: 5, stream });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('7');
      const error = await errorOf(response);
      expect(error).toMatchObject({ code: 'upstream_overloaded', type: 'server_error' });
    }
    expect(busy.posts).toBe(4);
    expect(client.breaker(busy.url).state).toBe('closed');
  });

  it('hands the request to the next upstream of the registry entry', async () => {
    const busy = await busyUpstream();
    const { url } = await router([busy.url, live.url], { policy: POLICY });
    const response = await complete(url, { max_tokens: 5 });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(5);
    expect(busy.posts).toBe(1);
  });
});

describe('a model with no reachable upstream configured', () => {
  it('answers 503 with Retry-After', async () => {
    // "embedded" is the generation server `npm start` runs; an app built without one cannot reach it.
    const registry = Registry.parse({
      default: 'story',
      models: [{ id: 'story', version: '1', task: 'text-generation', runtime: 'gpu-upstream', max_tokens: 16, upstreams: [{ url: 'embedded', model: 'stories260K' }], price: { request_micro_usd: 0, input_token_micro_usd: 0, output_token_micro_usd: 0 } }],
    });
    const app = createApp({ registry, engines: new Map(), isReady: () => true, upstreams: new UpstreamClient() });
    const response = await app.request('/v1/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'story', prompt: 'Once' }) });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await errorOf(response)).code).toBe('upstream_unavailable');
  });
});
