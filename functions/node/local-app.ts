/**
 * The router app over this checkout's models/ folder: the registry read from models/registry.json and its edge
 * models loaded (sha256-checked) with onnxruntime-web or onnxruntime-node. Used by the Node server, the Lambda entry,
 * tests and benchmarks.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp, type AppDeps } from '../app/create-app.js';
import type { ClassificationEngine } from '../engine/classification/classification-engine.js';
import type { MicroBatcherOptions } from '../engine/classification/micro-batcher.js';
import type { EdgeLoadOptions } from '../engine/loading/edge-tasks.js';
import { loadEdgeEngines } from '../engine/loading/load-edge-engines.js';
import { Registry } from '../registry/registry.js';
import type { Billing } from '../billing/billing-middleware.js';
import { billingPlugin } from '../billing/billing-plugin.js';
import { folderReader, nodeSessionFactory, type OrtBackend } from './load-classifier.js';

// MODELS_DIR: where a bundled deployment (the Lambda router) ships the models/ folder.
const modelsDir = process.env.MODELS_DIR ?? resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'models');

export async function loadEngines(registry: Registry, backend: OrtBackend = 'wasm', engine?: EdgeLoadOptions['engine']): Promise<Map<string, ClassificationEngine>> {
  const engines = await loadEdgeEngines(registry, {
    readerFor: (model) => folderReader(join(modelsDir, model.folder!)),
    createSession: nodeSessionFactory(backend),
    engine: (model) => ({ defer: setImmediate, ...engine?.(model) }),
  });
  return engines['text-classification'];
}

/** The registry of this checkout's models/ folder (or MODELS_DIR's). */
export async function readLocalRegistry(): Promise<Registry> {
  return Registry.parse(JSON.parse(await readFile(join(modelsDir, 'registry.json'), 'utf8')));
}

export interface LocalAppOptions {
  backend?: OrtBackend;
  /** true (the defaults), false (every request's texts alone), or micro-batcher options. */
  batching?: boolean | Partial<MicroBatcherOptions>;
  registry?: Registry;
  /** Keys, limits and metering (billing's plugin); the routes alone without it. */
  billing?: Billing;
  /** The rest of what the app takes: CORS origins, the upstream client, and the admin API's token (with billing). */
  app?: Pick<AppDeps, 'corsOrigins' | 'upstreams'> & { adminToken?: string };
}

export async function buildLocalApp(options: LocalAppOptions = {}): Promise<{ app: ReturnType<typeof createApp>; engines: Map<string, ClassificationEngine> }> {
  const models = options.registry ?? (await readLocalRegistry());
  const batching = options.batching ?? true;
  const engine = batching === true ? {} : batching === false ? { maxBatchSize: 1 } : batching;
  const engines = await loadEngines(models, options.backend ?? 'wasm', () => engine);
  const { adminToken, ...app } = options.app ?? {};
  const plugins = options.billing ? [billingPlugin({ billing: options.billing, adminToken })] : [];
  return { app: createApp({ registry: models, engines, isReady: () => true, plugins, ...app }), engines };
}

