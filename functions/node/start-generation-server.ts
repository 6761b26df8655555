/**
 * Starts the generation server (an ONNX decoder behind the OpenAI API) on a Node HTTP server: used by its entry
 * (`generation-server.ts`), by tests and benchmarks, and lazily (`startLazyGenerationServer`) by the Node router for
 * "embedded" upstreams, so that loading the decoder does not delay the router's first classification.
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import type { GenerationEngine, GenerationEngineOptions } from '../engine/generation/generation-engine.js';
import type { DecoderTensorFactory } from '../engine/generation/kv-decoder.js';
import { loadGenerationEngine, type DecoderSessionFactory } from '../engine/loading/load-decoder.js';
import { sharedDir } from './shared-paths.js';
import { folderReader } from './load-classifier.js';
import { createGenerationApp } from '../generation/create-generation-app.js';
import { errorJson } from '../http/errors.js';
import { ModelFolderError } from '../engine/model-config.js';

export const DEFAULT_GENERATION_PORT = 8000;

export interface GenerationServerOptions {
  port?: number;
  host?: string;
  modelDir?: string;
  modelId?: string;
  executionProvider?: 'cpu' | 'cuda';
  maxBatch?: number;
  maxQueue?: number;
  timeoutMs?: number;
  /** Told after each decode step (batch size, model time), for metrics or a test. */
  onStep?: GenerationEngineOptions['onStep'];
}

export interface RunningGenerationServer {
  url: string;
  modelId: string;
  engine: GenerationEngine;
  close(): Promise<void>;
}

export const defaultGenerationModelDir = () => resolve(process.env.MODELS_MIRROR ?? resolve(sharedDir, 'models'), 'stories260K');

function sessionFactory(provider: 'cpu' | 'cuda'): DecoderSessionFactory {
  return async (bytes) => {
    // Loaded on use: the router's bundles carry no native onnxruntime.
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(bytes, { executionProviders: provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'], intraOpNumThreads: 1 });
    const tensor = ((type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: number[]) => new ort.Tensor(type, data, dims)) as DecoderTensorFactory;
    return { session, tensor };
  };
}

function loadEngine(options: GenerationServerOptions, modelDir: string): Promise<GenerationEngine> {
  return loadGenerationEngine(folderReader(modelDir), modelDir, sessionFactory(options.executionProvider ?? 'cpu'), {
    maxBatch: options.maxBatch ?? 16,
    maxQueue: options.maxQueue ?? 256,
    defer: setImmediate,
    onStep: options.onStep,
  });
}

type Fetch = (request: Request) => Response | Promise<Response>;

function listen(fetch: Fetch, options: GenerationServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  const host = options.host ?? '127.0.0.1';
  return new Promise((started) => {
    const server = serve({ fetch, port: options.port ?? DEFAULT_GENERATION_PORT, hostname: host }, (info: AddressInfo) => {
      started({ url: `http://${host}:${info.port}`, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

const appOver = (modelId: string, engine: GenerationEngine, options: GenerationServerOptions) =>
  createGenerationApp({ models: new Map([[modelId, engine]]), requestTimeoutMs: options.timeoutMs ?? 120_000 });

export async function startGenerationServer(options: GenerationServerOptions = {}): Promise<RunningGenerationServer> {
  const modelDir = options.modelDir ?? defaultGenerationModelDir();
  const modelId = options.modelId ?? 'stories260K';
  const engine = await loadEngine(options, modelDir);
  const app = appOver(modelId, engine, options);
  return { ...(await listen(app.fetch, options)), modelId, engine };
}

export interface LazyGenerationServer {
  url: string;
  modelId: string;
  /** The engine once its first request has loaded it (null before, or when it failed to load). */
  loaded(): GenerationEngine | null;
  close(): Promise<void>;
}

/** The files a decoder folder must hold, checked at start (a stat each) so that a missing folder is said at once. */
const REQUIRED_FILES = ['config.json', 'tokenizer.json', join('onnx', 'model.onnx')];

/**
 * Listens at once and loads the decoder on the first request (which waits for it, about 0.1 s): the router's
 * embedded upstream, so that the router answers classifications without waiting for a model they do not use.
 * Throws ModelFolderError when the folder lacks a required file; a folder that still fails to load answers every
 * request with 503 and the reason (and says it once on stderr).
 */
export async function startLazyGenerationServer(options: GenerationServerOptions = {}): Promise<LazyGenerationServer> {
  const modelDir = options.modelDir ?? defaultGenerationModelDir();
  const modelId = options.modelId ?? 'stories260K';
  const missing = REQUIRED_FILES.filter((file) => !existsSync(join(modelDir, file)));
  if (missing.length) throw new ModelFolderError(`${modelDir} has no ${missing.join(', ')}`);
  let engine: GenerationEngine | null = null;
  let loading: Promise<Fetch> | null = null;
  const load = () => loadEngine(options, modelDir).then(
    (ready): Fetch => {
      engine = ready;
      return appOver(modelId, ready, options).fetch;
    },
    (error: unknown): Fetch => {
      const message = `generation is off: ${error instanceof Error ? error.message : String(error)}`;
      console.warn(message);
      return () => errorJson(503, message, 'server_error', 'model_unavailable');
    },
  );
  const running = await listen(async (request) => (await (loading ??= load()))(request), options);
  return { ...running, modelId, loaded: () => engine };
}
