/** Shared set-up for generation tests: stories260K loaded on onnxruntime-node, as the generation server does. */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { DecoderTensorFactory } from '../../functions/engine/generation/kv-decoder.js';
import { loadGenerationEngine, type DecoderLoadOptions } from '../../functions/engine/loading/load-decoder.js';
import { storiesDir } from '../paths.js';

export const GREEDY = { temperature: 0, topP: 1, topK: 0 };
/** llama2.c's published sample for stories260K, greedy from "Once upon a time" (see ../shared/README.md). */
export const REFERENCE = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park.';

/** stories260K on onnxruntime-node; `files` replaces files of the folder (as JSON) for a test. */
export async function storiesEngine(options: Partial<DecoderLoadOptions> = {}, files: Record<string, unknown> = {}) {
  const read = async (path: string) => {
    if (path in files) return new TextEncoder().encode(JSON.stringify(files[path]));
    try {
      return await readFile(`${storiesDir}/${path}`);
    } catch {
      return null;
    }
  };
  const tensor = ((type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: number[]) => new ort.Tensor(type, data, dims)) as DecoderTensorFactory;
  return loadGenerationEngine(read, storiesDir, async (bytes) => ({ session: await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 }), tensor }), {
    maxBatch: 8, maxQueue: 64, ...options,
  });
}
