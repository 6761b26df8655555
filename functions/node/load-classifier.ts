/** Builds a SequenceClassifier on onnxruntime-web (WASM) from a transformers.js model folder's files. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { ModelFolderError, parseClassifierConfig } from '../engine/model-config.js';
import { SequenceClassifier, type TensorFactory } from '../engine/classification/sequence-classifier.js';
import { WordPieceTokenizer } from '../engine/tokenizer/wordpiece-tokenizer.js';

export interface LoadOptions {
  /** File under onnx/ without extension: "model" (fp32) or "model_quantized" (int8). */
  variant: string;
  threads?: number;
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

export async function classifierFromFiles(read: FolderReader, onnxFile: string, where: string, threads = 1): Promise<SequenceClassifier> {
  const tokenizerConfig = await readJson(read, 'tokenizer_config.json', false, where);
  const config = parseClassifierConfig(await readJson(read, 'config.json', true, where), tokenizerConfig);
  const tokenizer = WordPieceTokenizer.fromJson(await readJson(read, 'tokenizer.json', true, where), config.maxLength);
  const bytes = await read(onnxFile);
  if (!bytes) throw new ModelFolderError(`${where} has no ${onnxFile}`);
  ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const createTensor: TensorFactory = (type, data, dims) => new ort.Tensor(type, data, dims);
  return new SequenceClassifier(session, tokenizer, createTensor, config.labels);
}

export function loadClassifier(folder: string, options: LoadOptions): Promise<SequenceClassifier> {
  return classifierFromFiles(folderReader(folder), `onnx/${options.variant}.onnx`, folder, options.threads ?? 1);
}
