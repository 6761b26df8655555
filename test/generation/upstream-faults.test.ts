// Faults with real processes on 127.0.0.1: a generation server killed mid-stream, down, slow, and a client
// that goes away. The router is the real app on a real port; the upstreams are real servers.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app/create-app.js';
import { UpstreamClient, type UpstreamPolicy } from '../../functions/app/upstream/upstream-client.js';
import { Registry } from '../../functions/engine/registry/registry.js';
import { startGenerationServer } from '../../functions/generation/server.js';
import { repoRoot } from '../paths.js';

const POLICY: UpstreamPolicy = {
  connectTimeoutMs: 1_000, firstTokenTimeoutMs: 300, totalTimeoutMs: 20_000, retries: 1, backoffMs: 10,
  breaker: { failureThreshold: 3, openMs: 400 },
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const freePort = () => new Promise<number>((resolve) => {
  const server = createNetServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    server.close(() => resolve(port));
  });
});

async function spawnGenerationServer(port: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'functions/generation/server.ts'], { cwd: repoRoot, env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => void child.kill('SIGKILL'));
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (\S+)/.exec(seen);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`generation server exited with ${code}`)));
  });
  return { url, child };
}

async function router(upstreamUrls: string[]): Promise<string> {
  const registry = Registry.parse({
    default: 'story',
    models: [{ id: 'story', version: '1', task: 'text-generation', runtime: 'gpu-upstream', max_tokens: 512, upstreams: upstreamUrls.map((url) => ({ url, model: 'stories260K' })), price: { request_micro_usd: 0, input_token_micro_usd: 0, output_token_micro_usd: 0 } }],
  });
  const app = createApp({ registry, engines: new Map(), isReady: () => true, upstreams: new UpstreamClient(POLICY) });
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      cleanups.push(() => new Promise<void>((done) => server.close(() => done())));
      resolve(`http://127.0.0.1:${info.port}`);
    });
  });
}

const complete = (url: string, body: Record<string, unknown>, signal?: AbortSignal) =>
  fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'story', prompt: 'Once upon a time', ...body }), signal });

/** Reads SSE events until the stream ends; `after(n)` runs once n events have arrived. */
async function readEvents(response: Response, after?: { count: number; run: () => void }): Promise<string[]> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: string[] = [];
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return events;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      events.push(buffer.slice(0, end).replace(/^data: /, ''));
      buffer = buffer.slice(end + 2);
      if (after && events.length === after.count) after.run();
    }
  }
}

describe('the router against failing upstreams', () => {
  it('ends a stream whose upstream is killed mid-way with an error event, never a hang', async () => {
    const upstream = await spawnGenerationServer(0);
    const url = await router([upstream.url]);
    const response = await complete(url, { max_tokens: 500, temperature: 0.8, seed: 1, stream: true });
    expect(response.status).toBe(200);
    const events = await readEvents(response, { count: 3, run: () => upstream.child.kill('SIGKILL') });
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events.at(-1)).toMatch(/"error".*broke off/);
    expect(events).not.toContain('[DONE]');
  });

  it('answers 502 while an upstream is down, 503 at once when its circuit opens, and recovers when it is back', async () => {
    const port = await freePort();
    const url = await router([`http://127.0.0.1:${port}`]);
    const first = await complete(url, { max_tokens: 5 });
    expect(first.status).toBe(502);
    expect(((await first.json()) as { error: { code: string } }).error.code).toBe('upstream_error');
    await complete(url, { max_tokens: 5 }); // the third failed attempt opens the circuit
    const t0 = performance.now();
    const refused = await complete(url, { max_tokens: 5 });
    expect(refused.status).toBe(503);
    expect(performance.now() - t0).toBeLessThan(200);
    expect(refused.headers.get('retry-after')).toBe('1');
    await spawnGenerationServer(port);
    await new Promise((r) => setTimeout(r, POLICY.breaker.openMs));
    const recovered = await complete(url, { max_tokens: 5, temperature: 0 });
    expect(recovered.status).toBe(200);
    expect(((await recovered.json()) as { choices: { text: string }[] }).choices[0]!.text).toMatch(/there/);
  });

  it('fails over to the next upstream of the registry entry', async () => {
    const live = await spawnGenerationServer(0);
    const url = await router([`http://127.0.0.1:${await freePort()}`, live.url]);
    const response = await complete(url, { max_tokens: 5 });
    expect(response.status).toBe(200);
  });

  it('gives up on an upstream that sends no first token in time: 504', async () => {
    const silent: Server = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'text/event-stream' })); // headers, then nothing
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((done) => { silent.closeAllConnections(); silent.close(() => done()); }));
    const url = await router([`http://127.0.0.1:${(silent.address() as AddressInfo).port}`]);
    const t0 = performance.now();
    const response = await complete(url, { max_tokens: 5, stream: true });
    expect(response.status).toBe(504);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('upstream_timeout');
    expect(performance.now() - t0).toBeLessThan(3_000);
  });

  it('stops the generation and frees its slot when the client disconnects', async () => {
    const upstream = await startGenerationServer({ port: 0 });
    cleanups.push(() => upstream.close());
    const url = await router([upstream.url]);
    const abort = new AbortController();
    const response = await complete(url, { max_tokens: 500, temperature: 0.8, seed: 3, stream: true }, abort.signal);
    await readEvents(response, { count: 3, run: () => abort.abort() }).catch(() => []);
    const deadline = Date.now() + 2_000;
    while (upstream.engine.load.active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(upstream.engine.load).toEqual({ active: 0, waiting: 0 });
    const steps = upstream.engine.stepSizes.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(upstream.engine.stepSizes.length).toBe(steps);
    expect(steps).toBeLessThan(450);
  });
});
