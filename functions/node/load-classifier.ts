/** Builds a SequenceClassifier on onnxruntime-web (WASM) from a transformers.js model folder's files. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { ModelFolderError, parseClassifierConfig } from '../engine/model-config.js';
import { SequenceClassifier, type OrtSessionLike, type TensorFactory } from '../engine/classification/sequence-classifier.js';
import { WordPieceTokenizer } from '../engine/tokenizer/wordpiece-tokenizer.js';

/** onnxruntime-web (WASM, what the edge runs) or onnxruntime-node (native CPU kernels). */
export type OrtBackend = 'wasm' | 'node';

export interface LoadOptions {
  /** File under onnx/ without extension: "model" (fp32) or "model_quantized" (int8). */
  variant: string;
  threads?: number;
  backend?: OrtBackend;
}

async function createSession(bytes: Uint8Array, backend: OrtBackend, threads: number): Promise<{ session: OrtSessionLike; createTensor: TensorFactory }> {
  if (backend === 'node') {
    const ortNode = await import('onnxruntime-node');
    const session = await ortNode.InferenceSession.create(bytes, { intraOpNumThreads: threads, graphOptimizationLevel: 'all' });
    return { session, createTensor: (type, data, dims) => new ortNode.Tensor(type, data, dims) };
  }
  ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return { session, createTensor: (type, data, dims) => new ort.Tensor(type, data, dims) };
}

/** Reads a file of the model folder by its relative path; null when it is missing. */
export type FolderReader = (path: string) => Promise<Uint8Array | null>;

export function folderReader(folder: string): FolderReader {
  return async (path) => {
    try {
      return await readFile(join(folder, path));
    } catch {
      return null;
    }
  };
}

async function readJson(read: FolderReader, name: string, required: boolean, where: string): Promise<unknown> {
  const bytes = await read(name);
  if (!bytes) {
    if (!required) return {};
    throw new ModelFolderError(`${where} is not a model folder: ${name} is missing`);
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new ModelFolderError(`${where} is not a model folder: ${name} is not valid JSON`);
  }
}

export async function classifierFromFiles(read: FolderReader, onnxFile: string, where: string, threads = 1, backend: OrtBackend = 'wasm'): Promise<SequenceClassifier> {
  const tokenizerConfig = await readJson(read, 'tokenizer_config.json', false, where);
  const config = parseClassifierConfig(await readJson(read, 'config.json', true, where), tokenizerConfig);
  const tokenizer = WordPieceTokenizer.fromJson(await readJson(read, 'tokenizer.json', true, where), config.maxLength);
  const bytes = await read(onnxFile);
  if (!bytes) throw new ModelFolderError(`${where} has no ${onnxFile}`);
  const { session, createTensor } = await createSession(bytes, backend, threads);
  return new SequenceClassifier(session, tokenizer, createTensor, config.labels);
}

export function loadClassifier(folder: string, options: LoadOptions): Promise<SequenceClassifier> {
  return classifierFromFiles(folderReader(folder), `onnx/${options.variant}.onnx`, folder, options.threads ?? 1, options.backend);
}
