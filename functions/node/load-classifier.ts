/** Node's model loading: files from disk, sessions on onnxruntime-web (WASM) or onnxruntime-node. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { classifierFromFiles, type FolderReader, type SessionFactory } from '../engine/loading/classifier-from-files.js';
import type { SequenceClassifier, SequenceClassifierOptions } from '../engine/classification/sequence-classifier.js';
import { wasmThreadSessionFactory } from './wasm-thread-session.js';

/** onnxruntime-web (WASM, what the edge runs) or onnxruntime-node (native CPU kernels). */
export type OrtBackend = 'wasm' | 'node';

export interface LoadOptions {
  /** File under onnx/ without extension: "model" (fp32) or "model_quantized" (int8). */
  variant: string;
  threads?: number;
  backend?: OrtBackend;
  /** Sees every session.run (texts, padded length, ms). */
  onRun?: SequenceClassifierOptions['onRun'];
  maxRunTokens?: SequenceClassifierOptions['maxRunTokens'];
}

export function nodeSessionFactory(backend: OrtBackend = 'wasm', threads = 1): SessionFactory {
  return async (bytes, options = {}) => {
    const graphOptimizationLevel = options.optimization ?? 'all';
    if (backend === 'node') {
      const ortNode = await import('onnxruntime-node');
      const session = await ortNode.InferenceSession.create(bytes, { intraOpNumThreads: threads, graphOptimizationLevel });
      return { session, createTensor: (type, data, dims) => new ortNode.Tensor(type, data, dims) };
    }
    ort.env.wasm.numThreads = threads;
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel });
    return { session, createTensor: (type, data, dims) => new ort.Tensor(type, data, dims) };
  };
}

/**
 * The sessions a server's edge models run on: native onnxruntime-node as nodeSessionFactory makes them; WASM ones in
 * a worker thread, so that a session.run does not stop the server reading its sockets (wasm-thread-session.ts).
 */
export function serverSessionFactory(backend: OrtBackend, threads = 1): SessionFactory {
  return backend === 'wasm' ? wasmThreadSessionFactory(threads) : nodeSessionFactory(backend, threads);
}

export function folderReader(folder: string): FolderReader {
  return async (path) => {
    try {
      return await readFile(join(folder, path));
    } catch {
      return null;
    }
  };
}

export function loadClassifier(folder: string, options: LoadOptions): Promise<SequenceClassifier> {
  return classifierFromFiles({
    read: folderReader(folder),
    onnxFile: `onnx/${options.variant}.onnx`,
    where: folder,
    createSession: nodeSessionFactory(options.backend, options.threads ?? 1),
    onRun: options.onRun,
    maxRunTokens: options.maxRunTokens,
  });
}
