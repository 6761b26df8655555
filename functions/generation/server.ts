/**
 * The generation server's Node entry (what the GPU container runs): `npm run start:generation` serves an ONNX
 * decoder on http://127.0.0.1:8000 with the OpenAI API. GEN_MODEL_DIR (default: stories260K from ../shared, or
 * $MODELS_MIRROR/stories260K), GEN_MODEL_ID, GEN_EXECUTION_PROVIDER=cpu|cuda, GEN_MAX_BATCH (1 turns continuous
 * batching off), GEN_MAX_QUEUE, GEN_TIMEOUT_MS, PORT and HOST configure it.
 */
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import type { GenerationEngine } from '../engine/generation/generation-engine.js';
import type { DecoderTensorFactory } from '../engine/generation/kv-decoder.js';
import { loadGenerationEngine, type DecoderSessionFactory } from '../engine/loading/load-decoder.js';
import { sharedDir } from '../../models/tools/shared-paths.js';
import { choiceFromEnv, intFromEnv, runEntry } from '../node/entry.js';
import { folderReader } from '../node/load-classifier.js';
import { createGenerationApp } from './create-generation-app.js';

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

export async function startGenerationServer(options: GenerationServerOptions = {}): Promise<RunningGenerationServer> {
  const modelDir = options.modelDir ?? defaultGenerationModelDir();
  const modelId = options.modelId ?? 'stories260K';
  const engine = await loadGenerationEngine(folderReader(modelDir), modelDir, sessionFactory(options.executionProvider ?? 'cpu'), {
    maxBatch: options.maxBatch ?? 16,
    maxQueue: options.maxQueue ?? 256,
    defer: setImmediate,
  });
  const app = createGenerationApp({ models: new Map([[modelId, engine]]), requestTimeoutMs: options.timeoutMs ?? 120_000 });
  const host = options.host ?? '127.0.0.1';
  return new Promise((started) => {
    const server = serve({ fetch: app.fetch, port: options.port ?? DEFAULT_GENERATION_PORT, hostname: host }, (info: AddressInfo) => {
      started({ url: `http://${host}:${info.port}`, modelId, engine, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runEntry(
    () => startGenerationServer({
      port: intFromEnv('PORT', DEFAULT_GENERATION_PORT, 0),
      host: process.env.HOST,
      modelDir: process.env.GEN_MODEL_DIR,
      modelId: process.env.GEN_MODEL_ID,
      executionProvider: choiceFromEnv('GEN_EXECUTION_PROVIDER', ['cpu', 'cuda'], 'cpu'),
      maxBatch: intFromEnv('GEN_MAX_BATCH', 16, 1),
      maxQueue: intFromEnv('GEN_MAX_QUEUE', 256, 0),
      timeoutMs: intFromEnv('GEN_TIMEOUT_MS', 120_000, 1),
    }),
    (running) => console.log(`generation server listening on ${running.url} (model ${running.modelId})`),
  );
}
