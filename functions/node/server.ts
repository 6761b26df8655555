/**
 * Node entry: `npm start` serves the registry's edge models on 127.0.0.1:8787 (HOST and PORT override), with
 * onnxruntime-web (WASM) or, with ORT_BACKEND=node, onnxruntime-node. Model files are checked against the
 * registry's sha256 before they load. MICRO_BATCHING=off runs each request alone (for comparisons). The registry's
 * "embedded" generation upstream is a generation server started in this process, unless EMBEDDED_GENERATION=off
 * or GENERATION_UPSTREAM_URL points the router at one that runs elsewhere.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import { corsOriginsFrom, createApp, type AppDeps } from '../app/create-app.js';
import { DEFAULT_UPSTREAM_POLICY } from '../app/upstream/upstream-policy.js';
import { UpstreamClient } from '../app/upstream/upstream-client.js';
import { requestErrorAsJson } from './request-error.js';
import type { ClassificationEngine } from '../engine/classification/classification-engine.js';
import { DEFAULT_MAX_QUEUE_MS, type MicroBatcherOptions } from '../engine/classification/micro-batcher.js';
import { loadEdgeEngines, type EdgeLoadOptions } from '../engine/loading/load-edge-engines.js';
import { ModelFolderError } from '../engine/model-config.js';
import { Registry } from '../engine/registry/registry.js';
import type { Billing } from '../billing/billing-middleware.js';
import { startGenerationServer } from '../generation/server.js';
import { openBilling } from './billing-setup.js';
import { answerClientErrorsAsJson, withHostRequired } from './client-error.js';
import { gracefulClose } from './graceful-close.js';
import { choiceFromEnv, intFromEnv, runEntry, urlFromEnv } from './entry.js';
import { folderReader, nodeSessionFactory, type OrtBackend } from './load-classifier.js';

// MODELS_DIR: where a bundled deployment (the Lambda router) ships the models/ folder.
const modelsDir = process.env.MODELS_DIR ?? resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'models');
export const DEFAULT_PORT = 8787;
const DRAIN_LIMIT_MS = 10_000;

export interface RunningServer {
  url: string;
  engines: Map<string, ClassificationEngine>;
  /** The embedded generation server, when this process runs one. */
  generationUrl: string | null;
  billing: Billing | null;
  close(): Promise<void>;
}

export function loadEngines(registry: Registry, backend: OrtBackend = 'wasm', engine?: EdgeLoadOptions['engine']): Promise<Map<string, ClassificationEngine>> {
  return loadEdgeEngines(registry, {
    readerFor: (model) => folderReader(join(modelsDir, model.folder!)),
    createSession: nodeSessionFactory(backend),
    engine: (model) => ({ defer: setImmediate, ...engine?.(model) }),
  });
}

/** The app with the registry's edge models loaded from this checkout's models/ folder (Node and Lambda). */
export async function readLocalRegistry(): Promise<Registry> {
  return Registry.parse(JSON.parse(await readFile(join(modelsDir, 'registry.json'), 'utf8')));
}

export interface LocalAppOptions {
  backend?: OrtBackend;
  /** true (the defaults), false (every request's texts alone), or micro-batcher options. */
  batching?: boolean | Partial<MicroBatcherOptions>;
  registry?: Registry;
  billing?: Billing;
  /** The rest of what createApp takes: admin token, CORS origins, the upstream client. */
  app?: Pick<AppDeps, 'adminToken' | 'corsOrigins' | 'upstreams'>;
}

export async function buildLocalApp(options: LocalAppOptions = {}): Promise<{ app: ReturnType<typeof createApp>; engines: Map<string, ClassificationEngine> }> {
  const models = options.registry ?? (await readLocalRegistry());
  const batching = options.batching ?? true;
  const engine = batching === true ? {} : batching === false ? { maxBatchSize: 1 } : batching;
  const engines = await loadEngines(models, options.backend ?? 'wasm', () => engine);
  return { app: createApp({ registry: models, engines, isReady: () => true, billing: options.billing, ...options.app }), engines };
}

/** The generation server for "embedded" upstreams; without its model folder the router still starts, without it. */
async function startEmbeddedGeneration() {
  try {
    return await startGenerationServer({ port: 0 });
  } catch (error) {
    if (!(error instanceof ModelFolderError)) throw error;
    console.warn(`generation is off: ${error.message} (MODELS_MIRROR points at the folder holding stories260K)`);
    return null;
  }
}

export interface ServerOptions {
  port?: number;
  host?: string;
  backend?: OrtBackend;
  /** false runs every request's texts alone (for comparison); concurrent requests are batched by default. */
  batching?: boolean;
  /** Run the generation server for the registry's "embedded" upstreams in this process (default true). */
  generation?: boolean;
  /** Point the "embedded" upstreams at this generation server instead of running one. */
  generationUrl?: string;
  /** "open" (the default): no API keys, requests metered without one; "keys": every API request needs a key. */
  auth?: 'keys' | 'open';
  /** The SQLite file for keys and usage (default $USAGE_DB or .data/edge-maas.sqlite). */
  usageDb?: string;
  adminToken?: string;
  /** Origins browsers may call the API from (CORS_ORIGINS); none by default. */
  corsOrigins?: string[];
  /** How long a stream may go without a chunk from its upstream before it ends with an error event. */
  upstreamIdleTimeoutMs?: number;
  /** Switch billing off entirely (benchmarks of the routes alone). */
  billing?: boolean;
  /** Longest a classification may wait in its model's queue before it is refused with 503 (default 3,000 ms). */
  classifyMaxQueueMs?: number;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  let registry = await readLocalRegistry();
  const embedded = !options.generationUrl && options.generation !== false && registry.models.some((m) => m.upstreams.some((u) => u.url === 'embedded'));
  const generation = embedded ? await startEmbeddedGeneration() : null;
  const upstreamUrl = options.generationUrl ?? generation?.url;
  if (upstreamUrl) registry = registry.withEmbeddedUpstream(upstreamUrl);
  const billing = options.billing === false ? null : await openBilling({ mode: options.auth ?? 'open', dbPath: options.usageDb });
  const queue = options.classifyMaxQueueMs === undefined ? {} : { maxQueueMs: options.classifyMaxQueueMs };
  const batching = { ...(options.batching === false ? { maxBatchSize: 1 } : {}), ...queue };
  const upstreams = new UpstreamClient({ idleTimeoutMs: options.upstreamIdleTimeoutMs ?? DEFAULT_UPSTREAM_POLICY.idleTimeoutMs });
  const { app, engines } = await buildLocalApp({
    backend: options.backend, batching, registry, billing: billing?.billing,
    app: { adminToken: options.adminToken, corsOrigins: options.corsOrigins, upstreams },
  });
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolveStart, failStart) => {
    // getRequestListener, not serve(): only the listener takes an errorHandler, for requests it cannot build.
    const server = createServer(withHostRequired(getRequestListener(app.fetch, { hostname: host, errorHandler: requestErrorAsJson })));
    server.once('error', failStart);
    server.listen(options.port ?? DEFAULT_PORT, host, () => {
      const info = server.address() as AddressInfo;
      resolveStart({
        url: `http://${host}:${info.port}`,
        engines,
        generationUrl: upstreamUrl ?? null,
        billing: billing?.billing ?? null,
        // Stop taking connections, answer requests in flight and arriving, then write every usage record left.
        close: async () => {
          await drain();
          await generation?.close();
          await billing?.close();
        },
      });
    });
    answerClientErrorsAsJson(server);
    const drain = gracefulClose(server, { limitMs: DRAIN_LIMIT_MS });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  runEntry(
    () => startServer({
      port: intFromEnv('PORT', DEFAULT_PORT, 0),
      host: process.env.HOST,
      backend: choiceFromEnv('ORT_BACKEND', ['wasm', 'node'], 'wasm'),
      batching: choiceFromEnv('MICRO_BATCHING', ['on', 'off'], 'on') === 'on',
      generation: choiceFromEnv('EMBEDDED_GENERATION', ['on', 'off'], 'on') === 'on',
      generationUrl: urlFromEnv('GENERATION_UPSTREAM_URL'),
      auth: choiceFromEnv('EDGE_MAAS_AUTH', ['open', 'keys'], 'open'),
      adminToken: process.env.ADMIN_TOKEN || undefined,
      billing: choiceFromEnv('BILLING', ['on', 'off'], 'on') === 'on',
      classifyMaxQueueMs: intFromEnv('CLASSIFY_MAX_QUEUE_MS', DEFAULT_MAX_QUEUE_MS, 1),
      corsOrigins: corsOriginsFrom(process.env.CORS_ORIGINS),
      upstreamIdleTimeoutMs: intFromEnv('UPSTREAM_IDLE_TIMEOUT_MS', DEFAULT_UPSTREAM_POLICY.idleTimeoutMs, 1),
    }),
    (running) => {
      const generating = running.generationUrl ? `; generation server ${running.generationUrl}` : '';
      console.log(`edge-maas listening on ${running.url} (models: ${[...running.engines.keys()].join(', ')}${generating}; ready in ${(performance.now() - started).toFixed(0)} ms)`);
      if (running.billing?.mode === 'open') console.log('open mode: no API keys are required; requests are metered without a key (EDGE_MAAS_AUTH=keys requires them)');
      if (running.billing?.mode === 'keys') console.log(`API keys required; admin API ${process.env.ADMIN_TOKEN ? 'on' : 'off (set ADMIN_TOKEN)'}`);
    },
  );
}
