/**
 * Starts the router on a Node HTTP server (used by its entry `server.ts`, tests and benchmarks): the registry's edge
 * models on onnxruntime-node (native) by default or onnxruntime-web (WASM), sha256-checked before they load. The registry's "embedded"
 * generation upstream is a generation server started in this process, unless told not to or pointed elsewhere.
 * Cold start: it listens as soon as the classifiers are loaded; the generation server loads its decoder on its first
 * request, and the billing store opens while the models load (bench/cold-start/run.ts measures it).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { DEFAULT_UPSTREAM_POLICY } from '../upstream/upstream-policy.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import { requestErrorAsJson } from './request-error.js';
import type { ClassificationEngine } from '../engine/classification/classification-engine.js';
import { BatchLane } from '../engine/classification/batch-lane.js';
import { ModelFolderError } from '../engine/model-config.js';
import type { Billing } from '../billing/billing-middleware.js';
import { startLazyGenerationServer } from './start-generation-server.js';
import { defaultUsageDb, migrationsDir, openBilling } from './billing-setup.js';
import { openSqlite } from './sqlite-database.js';
import { PolicyStore } from '../privacy/policy-store.js';
import { servedRegions } from '../privacy/regions.js';
import { REGIONS, type Registry } from '../registry/registry.js';
import { RouteStore } from '../traffic/route-store.js';
import { answerClientErrorsAsJson, withHostRequired } from './client-error.js';
import { gracefulClose } from './graceful-close.js';
import { nodeMetrics } from './node-observability.js';
import type { UsageSink } from '../billing/usage-writer.js';
import { buildLocalApp, readLocalRegistry } from './local-app.js';
import { serverSessionFactory, type OrtBackend } from './load-classifier.js';
import { resolveOrtBackend } from './ort-backend.js';
import type { NodeTuning, TuningSettings } from './tuning-setup.js';
import { cacheSettingsFromEnv, MemoryClassificationCache, type MemoryCacheSettings } from './memory-classification-cache.js';
import { upstreamHttpFetch } from './upstream-http-fetch.js';

export const DEFAULT_PORT = 8787;
const DRAIN_LIMIT_MS = 10_000;

export interface RunningServer {
  url: string;
  engines: Map<string, ClassificationEngine>;
  /** What runs the edge models: "node" (onnxruntime-node) or "wasm" (onnxruntime-web). */
  backend: OrtBackend;
  /** The embedded generation server, when this process runs one. */
  generationUrl: string | null;
  billing: Billing | null;
  /** Fine-tuning's job service and tenant models, unless switched off. */
  tuning: NodeTuning | null;
  /** The classification cache, when on. */
  classificationCache: MemoryClassificationCache | null;
  /** Resolves once every edge model's session is made (all but the default's are made after the first answer). */
  allModelsLoaded(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The generation server for "embedded" upstreams, loading its decoder on its first request; without its model folder
 * the router still starts, without it.
 */
async function startEmbeddedGeneration() {
  try {
    return await startLazyGenerationServer({ port: 0 });
  } catch (error) {
    if (!(error instanceof ModelFolderError)) throw error;
    console.warn(`generation is off: ${error.message} (MODELS_MIRROR points at the folder holding stories260K)`);
    return null;
  }
}

export interface ServerOptions {
  port?: number;
  host?: string;
  /**
   * "node" (onnxruntime-node, native) or "wasm" (onnxruntime-web, what the edge runs). Default: native, or WASM with a
   * warning where onnxruntime-node cannot load; "node" asked for there refuses to start, saying why (ort-backend.ts).
   */
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
  /**
   * Fine-tuning (Files and jobs API, tenant models) on the usage SQLite file, with its settings; false switches it
   * off. Default on with the defaults (server.ts reads FINE_TUNING_* from the environment).
   */
  fineTuning?: TuningSettings | false;
  /** The exact-match classification cache in memory, with its bounds; false: off. Default: CLASSIFY_CACHE (off unless "on"). */
  classifyCache?: MemoryCacheSettings | false;
  /** Longest a classification may wait for its batch (behind every model's queued work) before it is refused with 503 (default 3,000 ms). */
  classifyMaxQueueMs?: number;
  /** Privacy policies per key and tenant (PII redaction, zero retention) in the usage SQLite file; default on with billing. */
  privacy?: boolean;
  /** The region this server runs in (EDGE_MAAS_REGION): keys pinned to it are classified here; unset, none are. */
  region?: string;
  /** Another registry than models/registry.json (tests: upstreams tagged with regions). */
  registry?: Registry;
  /** Told how many usage records each billing write stored (tests count them; metrics will). */
  onUsageWritten?: (count: number) => void;
  /** Sees every batch the edge classifiers run: its size, and how long it ran (metrics, tests). */
  onClassifyBatch?: (size: number, ms: number) => void;
  /** GET /metrics (Prometheus) and the counts behind it (default on); false: neither, nor their cost. */
  metrics?: boolean;
  /** The bearer token of GET /metrics (METRICS_TOKEN); default the admin token; neither: open in open mode, 401 with keys. */
  metricsToken?: string;
}

/** Listens on port and host; rejects with the server's error (a port in use) instead of throwing it later. */
function listening(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolveListen, failListen) => {
    server.once('error', failListen);
    server.listen(port, host, () => resolveListen(server.address() as AddressInfo));
  });
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  if (options.region !== undefined && !(REGIONS as readonly string[]).includes(options.region)) throw new Error(`EDGE_MAAS_REGION must be one of ${REGIONS.join(', ')}, not "${options.region}"`);
  const backend = await resolveOrtBackend(options.backend);
  let registry = options.registry ?? (await readLocalRegistry());
  const embedded = !options.generationUrl && options.generation !== false && registry.models.some((m) => m.upstreams.some((u) => u.url === 'embedded'));
  const generation = embedded ? await startEmbeddedGeneration() : null;
  let tuning: NodeTuning | null = null;
  let policyDb: ReturnType<typeof openSqlite> | null = null;
  // Opened while the models load; awaited (and closed on failure) below.
  const openingBilling = options.billing === false ? Promise.resolve(null) : openBilling({ mode: options.auth ?? 'open', dbPath: options.usageDb, onUsageWritten: options.onUsageWritten });
  try {
    const upstreamUrl = options.generationUrl ?? generation?.url;
    if (upstreamUrl) registry = registry.withEmbeddedUpstream(upstreamUrl);
    const queue = options.classifyMaxQueueMs === undefined ? {} : { maxQueueMs: options.classifyMaxQueueMs };
    // One lane for every model of the process (tenants' encoders too): they share its CPU cores, so they share
    // one batch at a time and one queue deadline (batch-lane.ts).
    const batching = { ...(options.batching === false ? { maxBatchSize: 1 } : {}), ...queue, onBatch: options.onClassifyBatch, lane: new BatchLane() };
    const cacheSettings = options.classifyCache ?? cacheSettingsFromEnv();
    const classificationCache = cacheSettings === false ? null : new MemoryClassificationCache(cacheSettings);
    let usage: UsageSink | undefined; // the gauges read it once billing is open
    const observed = options.metrics === false ? null
      : nodeMetrics({ registry: () => registry, upstreams: (): UpstreamClient => upstreams, usage: () => usage }, { token: options.metricsToken ?? options.adminToken, openWithoutToken: options.auth !== 'keys' });
    const upstreams: UpstreamClient = new UpstreamClient({ idleTimeoutMs: options.upstreamIdleTimeoutMs ?? DEFAULT_UPSTREAM_POLICY.idleTimeoutMs }, observed?.upstreamOptions ?? { fetch: upstreamHttpFetch });
    // Fine-tuning shares billing's SQLite file; with DynamoDB billing (or none) it keeps to the default file.
    const fineTuning = options.fineTuning === false ? undefined : { ...options.fineTuning, dbPath: options.usageDb ?? defaultUsageDb() };
    // Opened once billing's connection has applied the migrations (two at once would both apply them).
    policyDb = options.privacy === false || options.billing === false ? null : openingBilling.then(() => openSqlite(options.usageDb ?? defaultUsageDb(), migrationsDir));
    const built = await buildLocalApp({
      backend, createSession: serverSessionFactory(backend), batching, registry, billing: openingBilling.then((opened) => opened?.billing), fineTuning,
      privacy: policyDb ? { store: new PolicyStore(policyDb), regions: servedRegions(registry, options.region), locate: options.region ? () => options.region : undefined } : undefined,
      traffic: policyDb ? { store: new RouteStore(policyDb), realWorkPending: () => !batching.lane.idle, onShadowOutcome: observed ? (o) => observed.metrics.shadowOutcome(o) : undefined } : undefined,
      observability: observed ?? undefined,
      app: { adminToken: options.adminToken, corsOrigins: options.corsOrigins, upstreams, classificationCache: classificationCache ?? undefined },
    });
    const { app, engines } = built;
    const opened = await openingBilling;
    usage = opened?.billing.writer;
    tuning = built.tuning;
    const host = options.host ?? '127.0.0.1';
    // getRequestListener, not serve(): only the listener takes an errorHandler, for requests it cannot build.
    const server = createServer(withHostRequired(getRequestListener(app.fetch, { hostname: host, errorHandler: requestErrorAsJson })));
    answerClientErrorsAsJson(server);
    const drain = gracefulClose(server, { limitMs: DRAIN_LIMIT_MS });
    const info = await listening(server, options.port ?? DEFAULT_PORT, host);
    const openedTuning = tuning;
    return {
      url: `http://${host}:${info.port}`,
      engines,
      backend,
      generationUrl: upstreamUrl ?? null,
      classificationCache,
      billing: opened?.billing ?? null,
      tuning: openedTuning,
      allModelsLoaded: () => built.sessions.loadAll(),
      // End the job event streams (they would hold the drain until their jobs finish), stop taking connections,
      // answer requests in flight and arriving, put running jobs back in the queue, then write every usage record left.
      close: async () => {
        openedTuning?.endStreams?.();
        await drain();
        await openedTuning?.close();
        await generation?.close();
        await opened?.close();
        (await policyDb?.catch(() => null))?.close();
      },
    };
  } catch (error) {
    // What started before the failure (a port in use, a model that does not load) would hold its port and database.
    const openedBilling = openingBilling.catch(() => null); // handled now: its own failure is not the one to report
    await tuning?.close();
    await generation?.close();
    await (await openedBilling)?.close();
    (await policyDb?.catch(() => null))?.close();
    throw error;
  }
}
