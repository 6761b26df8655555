/** Loads a transformers.js model folder from disk into a SequenceClassifier on onnxruntime-web (WASM). */
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

async function readJson(folder: string, name: string, required: boolean): Promise<unknown> {
  try {
    return JSON.parse(await readFile(join(folder, name), 'utf8'));
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    const reason = error instanceof SyntaxError ? 'is not valid JSON' : 'is missing';
    throw new ModelFolderError(`${folder} is not a model folder: ${name} ${reason}`);
  }
}

export async function loadClassifier(folder: string, options: LoadOptions): Promise<SequenceClassifier> {
  const tokenizerConfig = await readJson(folder, 'tokenizer_config.json', false);
  const config = parseClassifierConfig(await readJson(folder, 'config.json', true), tokenizerConfig);
  const tokenizer = WordPieceTokenizer.fromJson(await readJson(folder, 'tokenizer.json', true), config.maxLength);
  const onnxPath = join(folder, 'onnx', `${options.variant}.onnx`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(onnxPath);
  } catch {
    throw new ModelFolderError(`${folder} has no onnx/${options.variant}.onnx`);
  }
  ort.env.wasm.numThreads = options.threads ?? 1;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const createTensor: TensorFactory = (type, data, dims) => new ort.Tensor(type, data, dims);
  return new SequenceClassifier(session, tokenizer, createTensor, config.labels);
}
