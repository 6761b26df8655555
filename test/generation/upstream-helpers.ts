/**
 * Shared set-up for the router-against-upstream tests: real generation servers (spawned, so that they can be
 * killed or stopped, or in-process), raw node:http servers playing a misbehaving upstream, and the real router
 * app on a real port with a test's policy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterEach } from 'vitest';
import type { Billing } from '../../functions/billing/billing-middleware.js';
import { billingPlugin } from '../../functions/billing/billing-plugin.js';
import { createApp } from '../../functions/app/create-app.js';
import { upstreamHttpFetch } from '../../functions/node/upstream-http-fetch.js';
import { UpstreamClient, type UpstreamClientOptions, type UpstreamPolicyOverrides } from '../../functions/upstream/upstream-client.js';
import { Registry } from '../../functions/registry/registry.js';
import { repoRoot } from '../paths.js';

type Cleanup = () => Promise<void> | void;
const cleanups: Cleanup[] = [];
/** Call once at the top of a test file: what the helpers start is stopped after each test. */
export function stopAfterEach(): void {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
}
export const onCleanup = (cleanup: Cleanup) => void cleanups.push(cleanup);

/** A port nobody listens on (connections to it are refused). */
export const closedPort = () => new Promise<number>((resolve) => {
  const server = createNetServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    server.close(() => resolve(port));
  });
});

/** `npm run start:generation` as a child process, so a test can SIGKILL or SIGSTOP it. */
/**
 * An upstream address that stays this test's for its whole life: each connection is closed at once (the upstream is
 * down) until relayTo() points it at a live server, whose bytes it then relays. A closed port given back to the
 * system and listened on again later can be taken meanwhile by another test's server on a loaded machine.
 */
export async function downUntilRelayed(): Promise<{ url: string; relayTo(target: string): void }> {
  let target: URL | null = null;
  const server = createNetServer((socket) => {
    if (!target) return void socket.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    socket.pipe(upstream).pipe(socket);
    const close = () => { socket.destroy(); upstream.destroy(); };
    socket.on('error', close);
    upstream.on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => void server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, relayTo: (url) => void (target = new URL(url)) };
}

export async function spawnGenerationServer(port = 0): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'functions/node/generation-server.ts'], { cwd: repoRoot, env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  onCleanup(() => void child.kill('SIGKILL'));
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

export interface RawUpstream {
  url: string;
  /** POSTs received (GET /health is answered 200 and not counted). */
  posts: number;
}

/** A node:http server playing an upstream: `handle` answers each POST as the test wants. */
export async function rawUpstream(handle: (req: IncomingMessage, res: ServerResponse, raw: RawUpstream) => void): Promise<RawUpstream> {
  const raw: RawUpstream = { url: '', posts: 0 };
  const server = createHttpServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    raw.posts++;
    req.resume();
    handle(req, res, raw);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onCleanup(() => new Promise<void>((done) => {
    server.closeAllConnections();
    server.close(() => done());
  }));
  raw.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return raw;
}

export type UpstreamJson = { url: string; model?: string; warmup_seconds?: number };

export interface RouterOptions extends UpstreamClientOptions {
  policy?: UpstreamPolicyOverrides;
  billing?: Billing;
  /** Per million tokens is too fine for a test: micro-USD per token. */
  price?: { request_micro_usd: number; input_token_micro_usd: number; output_token_micro_usd: number };
}

/** The real router app on a port, with one model "story" served by `upstreams` in order. */
export async function router(upstreams: (string | UpstreamJson)[], options: RouterOptions = {}): Promise<{ url: string; client: UpstreamClient }> {
  const registry = Registry.parse({
    default: 'story',
    models: [{
      id: 'story', version: '1', task: 'text-generation', runtime: 'gpu-upstream', max_tokens: 512,
      upstreams: upstreams.map((u) => ({ model: 'stories260K', ...(typeof u === 'string' ? { url: u } : u) })),
      price: options.price ?? { request_micro_usd: 0, input_token_micro_usd: 0, output_token_micro_usd: 0 },
    }],
  });
  // UPSTREAM_FETCH=node: over the Node router's own transport (functions/node/upstream-http-fetch.ts).
  const client = new UpstreamClient(options.policy, process.env.UPSTREAM_FETCH === 'node' && !options.fetch ? { ...options, fetch: upstreamHttpFetch } : options);
  const app = createApp({ registry, engines: new Map(), isReady: () => true, upstreams: client, plugins: options.billing ? [billingPlugin({ billing: options.billing })] : [] });
  const url = await new Promise<string>((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      onCleanup(() => new Promise<void>((done) => {
        (server as Server).closeAllConnections();
        server.close(() => done());
      }));
      resolve(`http://127.0.0.1:${info.port}`);
    });
  });
  return { url, client };
}

export const complete = (url: string, body: Record<string, unknown>, signal?: AbortSignal) =>
  fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'story', prompt: 'Once upon a time', ...body }), signal });

export const errorOf = async (response: Response) => ((await response.json()) as { error: { code: string; message: string } }).error;

/** Reads SSE events (their data) until the stream ends; `each(n)` runs after the n-th event has arrived. */
export async function readEvents(response: Response, each?: (count: number) => void | Promise<void>): Promise<string[]> {
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
      await each?.(events.length);
    }
  }
}
