/**
 * The router app over this checkout's models/ folder: the registry read from models/registry.json and its edge
 * models loaded (sha256-checked) with onnxruntime-web or onnxruntime-node. Used by the Node server, the Lambda entry,
 * tests and benchmarks.
 *
 * Cold start: the app is ready once the default model is; the other edge models are checked and parsed too, but
 * their sessions are made in the background a moment later (or by their first request, which waits for it:
 * deferred-sessions.ts), and files hashed by an earlier start are not hashed again while unchanged
 * (model-file-stamps.ts).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp, type AppDeps } from '../app/create-app.js';
import type { ClassificationEngine } from '../engine/classification/classification-engine.js';
import type { MicroBatcherOptions } from '../engine/classification/micro-batcher.js';
import type { EdgeEngines, EdgeLoadOptions } from '../engine/loading/edge-tasks.js';
import type { FolderReader } from '../engine/loading/folder-files.js';
import type { SessionFactory } from '../engine/loading/classifier-from-files.js';
import { AfterFirstAnswer } from '../engine/loading/after-first-answer.js';
import { DeferredSessions } from '../engine/loading/deferred-sessions.js';
import type { TextClassifier } from '../engine/tasks/text-classifier.js';
import { loadEdgeEngines, type EdgeLoadExtras } from '../engine/loading/load-edge-engines.js';
import { modelRef, Registry, type ModelEntry } from '../registry/registry.js';
import type { Billing } from '../billing/billing-middleware.js';
import { billingPlugin } from '../billing/billing-plugin.js';
import { consolePlugin } from '../console/console-plugin.js';
import { withPrivacy, type PrivacySettings } from '../privacy/compose.js';
import { withTraffic, type TrafficSettings } from '../traffic/traffic-plugin.js';
import { withBatchMetrics } from '../observability/batch-observer.js';
import { observabilityPlugin, type ObservabilityOptions } from '../observability/observability-plugin.js';
import { observeClassifiers } from '../observability/observed-classifier.js';
import { verifyModelFiles } from '../registry/verify-files.js';
import { BillingTrainingMeter } from '../tuning/billing-training-meter.js';
import { folderReader, nodeSessionFactory, type OrtBackend } from './load-classifier.js';
import { modelFileStamps } from './model-file-stamps.js';
import { ENGINE_OF } from './ort-backend.js';
import { openTuning, type NodeTuning, type OpenTuningOptions, type TuningSettings } from './tuning-setup.js';

// MODELS_DIR: where a bundled deployment (the Lambda router) ships the models/ folder.
const modelsDir = process.env.MODELS_DIR ?? resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'models');
/** The server's own files (.data/, beside models/ in a checkout). */
const dataDir = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '.data');
/**
 * The deferred sessions are made once the default model has answered its first classification, or this long
 * after the app is built if none comes (a first request would wait behind a session being made).
 */
const DEFERRED_SESSIONS_DELAY_MS = 1_000;

/** Every edge model of the registry loaded, per task (edge-tasks.ts); all of them before it resolves unless `extras` orders otherwise. */
export async function loadAllEngines(registry: Registry, backend: OrtBackend = 'wasm', engine?: EdgeLoadOptions['engine'], createSession?: SessionFactory, extras?: EdgeLoadExtras): Promise<EdgeEngines> {
  return loadEdgeEngines(registry, {
    readerFor: (model) => folderReader(join(modelsDir, model.folder!)),
    createSession: createSession ?? nodeSessionFactory(backend),
    engine: (model) => ({ defer: setImmediate, ...engine?.(model) }),
  }, extras);
}

/** The default model first, the others' sessions deferred; files vouched for by their stamps. */
function coldStartExtras(registry: Registry, later: DeferredSessions): EdgeLoadExtras {
  const first = registry.resolve();
  const stamps = modelFileStamps(dataDir);
  return {
    order: { first: (model) => model === first, later },
    checkedFiles: stamps ? (model) => stamps.folder(join(modelsDir, model.folder!)) : undefined,
  };
}

export async function loadEngines(registry: Registry, backend: OrtBackend = 'wasm', engine?: EdgeLoadOptions['engine']): Promise<Map<string, ClassificationEngine>> {
  return (await loadAllEngines(registry, backend, engine))['text-classification'];
}

/** A model folder's files, each checked against the registry's sha256 (all of them, on the first read). */
function verifiedReader(model: ModelEntry): FolderReader {
  let verified: Promise<Map<string, Uint8Array>> | null = null;
  return async (path) => (await (verified ??= verifyModelFiles(model, folderReader(join(modelsDir, model.folder!))))).get(path) ?? null;
}

/** The registry of this checkout's models/ folder (or MODELS_DIR's). */
export async function readLocalRegistry(): Promise<Registry> {
  return Registry.parse(JSON.parse(await readFile(join(modelsDir, 'registry.json'), 'utf8')));
}

/** The classifiers with the default one telling `then` after its first answer (after-first-answer.ts). */
function withFirstAnswerHook(engines: Map<string, TextClassifier>, defaultRef: string, then: () => void): Map<string, TextClassifier> {
  const first = engines.get(defaultRef);
  return first ? new Map([...engines].map(([ref, engine]) => [ref, engine === first ? new AfterFirstAnswer(first, then) : engine])) : engines;
}

export interface LocalAppOptions {
  backend?: OrtBackend;
  /** Where the backend's sessions are made (the server: WASM sessions in a thread); default nodeSessionFactory(backend). */
  createSession?: SessionFactory;
  /** true (the defaults), false (every request's texts alone), or micro-batcher options. */
  batching?: boolean | Partial<MicroBatcherOptions>;
  registry?: Registry;
  /** Keys, limits and metering (billing's plugin); the routes alone without it. A promise is awaited while the models load. */
  billing?: Billing | Promise<Billing | undefined>;
  /**
   * Fine-tuning (Files and jobs routes, tenant models) over the SQLite file at dbPath, the server's loaded encoders
   * and, with billing, training metered against the keys' budgets; none without it.
   */
  fineTuning?: TuningSettings & { dbPath: string; trainer?: OpenTuningOptions['trainer'] };
  /** Fine-tuning over another store (the AWS router's DynamoDB + S3), opened with what this app loaded; instead of fineTuning. */
  openTuning?: (deps: Pick<OpenTuningOptions, 'registry' | 'embedders' | 'meter' | 'readerFor'>) => Promise<NodeTuning>;
  /** Privacy policies per key and tenant (functions/privacy/): PII redaction before text leaves or is stored, zero retention. */
  privacy?: PrivacySettings;
  /** Traffic routes (functions/traffic/): aliases split between versions, sticky per key, shadow runs; set through the admin API. */
  traffic?: TrafficSettings;
  /** Metrics and traces (functions/observability/): GET /metrics, queue waits and batch sizes, a span per request. */
  observability?: ObservabilityOptions;
  /** The rest of what the app takes: CORS origins, the upstream client, and the admin API's token (with billing). */
  app?: Pick<AppDeps, 'corsOrigins' | 'upstreams' | 'classificationCache'> & { adminToken?: string };
  /**
   * false: every model's session is made before the app is returned. Default: the default model's only, the others
   * once it has answered its first classification, or `fallbackMs` (default 1,000) after the app is built.
   */
  deferSessions?: boolean | { fallbackMs: number };
}

export interface LocalApp {
  app: ReturnType<typeof createApp>;
  engines: Map<string, ClassificationEngine>;
  /** Open when fineTuning was asked for: the caller closes it. */
  tuning: NodeTuning | null;
  /** The models whose sessions are still to be made (`pending`), and loadAll() to have them all now. */
  sessions: Pick<DeferredSessions, 'pending' | 'loadAll'>;
}

export async function buildLocalApp(options: LocalAppOptions = {}): Promise<LocalApp> {
  const models = options.registry ?? (await readLocalRegistry());
  const batching = options.batching ?? true;
  const engine = batching === true ? {} : batching === false ? { maxBatchSize: 1 } : batching;
  const backend = options.backend ?? 'wasm';
  const later = new DeferredSessions((ref, error) => console.error(`model ${ref} could not be loaded: ${error instanceof Error ? error.message : String(error)}`));
  const extras = options.deferSessions === false ? undefined : coldStartExtras(models, later);
  const [all, unguarded] = await Promise.all([loadAllEngines(models, backend, () => withBatchMetrics(engine, options.observability?.metrics), options.createSession, extras), options.billing]);
  const loadLater = () => void later.loadAll();
  const fallbackMs = typeof options.deferSessions === 'object' ? options.deferSessions.fallbackMs : DEFERRED_SESSIONS_DELAY_MS;
  if (later.pending.length > 0) setTimeout(loadLater, fallbackMs).unref();
  const engines = all['text-classification'];
  const { adminToken, ...app } = options.app ?? {};
  const privacy = options.privacy ? withPrivacy(unguarded, options.privacy, adminToken) : null;
  const billing = privacy ? privacy.billing : unguarded;
  const tuningDeps = {
    registry: models, embedders: all['feature-extraction'], readerFor: verifiedReader,
    meter: billing ? new BillingTrainingMeter({ store: billing.store, writer: billing.writer }) : undefined,
  };
  const tuning = options.openTuning
    ? await options.openTuning(tuningDeps)
    : options.fineTuning ? await openTuning({ ...options.fineTuning, ...tuningDeps }) : null;
  const plugins = [...(billing ? [billingPlugin({ billing, adminToken })] : []), ...(tuning ? [tuning.plugin] : []), consolePlugin({ auth: billing?.mode ?? 'off' })];
  if (privacy) plugins.splice(billing ? 1 : 0, 0, privacy.plugin); // after billing, which accepts the key it reads
  const traffic = options.traffic ? withTraffic(options.traffic, models, engines, adminToken) : null;
  if (traffic) plugins.push(traffic.plugin);
  if (options.observability) plugins.unshift(observabilityPlugin(options.observability)); // first: it sees the others' refusals
  const observed = options.observability ? observeClassifiers(engines, options.observability.metrics) : engines;
  const served = later.pending.length > 0 ? withFirstAnswerHook(observed, modelRef(models.resolve()!), loadLater) : observed;
  return { app: createApp({ registry: models, engines: served, isReady: () => true, plugins, tenantModels: tuning?.tenantModels, edgeEngine: ENGINE_OF[backend], traffic: traffic?.router, ...app }), engines, tuning, sessions: later };
}
