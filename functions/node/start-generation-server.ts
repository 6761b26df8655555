/**
 * Starts the generation server (an ONNX decoder behind the OpenAI API) on a Node HTTP server: used by its entry
 * (`generation-server.ts`), by the Node router for "embedded" upstreams, and by tests and benchmarks.
 */
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { serve } from '@hono/node-server';
import type { GenerationEngine, GenerationEngineOptions } from '../engine/generation/generation-engine.js';
import type { DecoderTensorFactory } from '../engine/generation/kv-decoder.js';
import { loadGenerationEngine, type DecoderSessionFactory } from '../engine/loading/load-decoder.js';
import { sharedDir } from './shared-paths.js';
import { folderReader } from './load-classifier.js';
import { createGenerationApp } from '../generation/create-generation-app.js';

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

export async function startGenerationServer(options: GenerationServerOptions = {}): Promise<RunningGenerationServer> {
  const modelDir = options.modelDir ?? defaultGenerationModelDir();
  const modelId = options.modelId ?? 'stories260K';
  const engine = await loadGenerationEngine(folderReader(modelDir), modelDir, sessionFactory(options.executionProvider ?? 'cpu'), {
    maxBatch: options.maxBatch ?? 16,
    maxQueue: options.maxQueue ?? 256,
    defer: setImmediate,
    onStep: options.onStep,
  });
  const app = createGenerationApp({ models: new Map([[modelId, engine]]), requestTimeoutMs: options.timeoutMs ?? 120_000 });
  const host = options.host ?? '127.0.0.1';
  return new Promise((started) => {
    const server = serve({ fetch: app.fetch, port: options.port ?? DEFAULT_GENERATION_PORT, hostname: host }, (info: AddressInfo) => {
      started({ url: `http://${host}:${info.port}`, modelId, engine, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}
