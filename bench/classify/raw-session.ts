/** The limits: session.run of an int8 model (default sst2-bert@3) with no HTTP, on onnxruntime-web (WASM) or onnxruntime-node. */
import { loadClassifier, type OrtBackend } from '../../functions/node/load-classifier.js';
import { percentile } from '../common/stats.js';
import { defaultModelDir } from './sentences.js';

export interface RawResult {
  /** session.run alone, one sentence. */
  runP50: number;
  runP99: number;
  /** Sentences per second when run 64 to a batch (padding included). */
  batched64PerSecond: number;
}

export async function rawSession(backend: OrtBackend, sentences: string[], runs: number, dir = defaultModelDir): Promise<RawResult> {
  const classifier = await loadClassifier(dir, { variant: 'model_quantized', backend, threads: 1 });
  for (const text of sentences.slice(0, 20)) await classifier.classify([text]);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push((await classifier.classify([sentences[i % sentences.length]!])).inferenceMs);
  const t0 = performance.now();
  let done = 0;
  for (let start = 0; start + 64 <= sentences.length; start += 64) {
    await classifier.classify(sentences.slice(start, start + 64));
    done += 64;
  }
  return { runP50: percentile(times, 50), runP99: percentile(times, 99), batched64PerSecond: done / ((performance.now() - t0) / 1000) };
}
