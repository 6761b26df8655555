import { dirname, basename, resolve } from 'node:path';
import { env, pipeline } from '@xenova/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { extractorFromFiles } from '../../functions/engine/features/extractor-from-files.js';
import type { FeatureExtractor } from '../../functions/engine/features/feature-extractor.js';
import { folderReader, nodeSessionFactory } from '../../functions/node/load-classifier.js';
import { readLabelledTsv } from '../../models/tools/labelled-tsv.js';
import { devTsv, repoRoot } from '../paths.js';

const encoderDir = resolve(repoRoot, 'models', 'electra-imdb-small');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = dirname(encoderDir) + '/';

type Pipeline = (text: string, options: { pooling: 'mean' }) => Promise<{ data: Float32Array; dims: number[] }>;

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((max, x, i) => Math.max(max, Math.abs(x - b[i]!)), 0);
const cosine = (a: Float32Array, b: Float32Array) => {
  let dot = 0, aa = 0, bb = 0;
  a.forEach((x, i) => { dot += x * b[i]!; aa += x * x; bb += b[i]! ** 2; });
  return dot / Math.sqrt(aa * bb);
};

const load = (variant: string, onRun?: (rows: number, width: number) => void) => extractorFromFiles({
  read: folderReader(encoderDir), onnxFile: `onnx/${variant}.onnx`, where: encoderDir, createSession: nodeSessionFactory('wasm'), onRun,
});

const sentences = (await readLabelledTsv(devTsv)).map((r) => r.text);
/** SST-2 dev sentences joined until the text has at least `words` words. */
function textOf(words: number): string {
  const parts: string[] = [];
  for (let i = 0, count = 0; count < words; i++) {
    parts.push(sentences[i]!);
    count += sentences[i]!.split(/\s+/).length;
  }
  return parts.join(' ');
}

// Measured on 64 SST-2 dev sentences, one at a time (onnxruntime-web 1.30 here, onnxruntime-node 1.14 inside
// transformers.js v2): fp32 agrees within 4.8e-7. int8 does not reach 1e-4 across runtimes: at most 1.0e-3 (7.5e-4
// with onnxruntime-node 1.30, so the runtimes' arithmetic around the integer products, not our pooling), cosine
// above 0.99999992. And dynamic int8 quantization takes its activation scale from each run's whole tensor, so an
// int8 vector depends on the batch it ran in (measured: at most 1.7e-2 apart, cosine above 0.999987); fp32 does not
// (2.4e-7).
describe.each([
  ['fp32', 'model', false, 1e-4, 1e-5, 0.9999999],
  ['int8', 'model_quantized', true, 1e-2, 5e-2, 0.9999],
] as const)('the electra-imdb-small encoder (%s)', (_name, variant, quantized, pipelineTolerance, batchTolerance, minCosine) => {
  let ours: FeatureExtractor;
  let reference: Pipeline;

  beforeAll(async () => {
    ours = await load(variant);
    reference = (await pipeline('feature-extraction', basename(encoderDir), { quantized, local_files_only: true } as never)) as unknown as Pipeline;
  });

  it(`gives transformers.js' mean-pooled vectors within ${pipelineTolerance} for short texts`, async () => {
    for (const text of sentences.slice(0, 16)) {
      const [got] = (await ours.extract([text])).vectors;
      const expected = await reference(text, { pooling: 'mean' });
      expect(expected.dims).toEqual([1, ours.dimensions]);
      expect(got!.length).toBe(192);
      expect(maxAbsDiff(got!, expected.data)).toBeLessThan(pipelineTolerance);
      expect(cosine(got!, expected.data)).toBeGreaterThan(minCosine);
    }
  });

  it(`gives a batch of mixed lengths the vectors of its texts run one by one, within ${batchTolerance}`, async () => {
    const texts = [...sentences.slice(16, 40), textOf(300), ''];
    const batch = await ours.extract(texts);
    for (const [i, text] of texts.entries()) {
      const alone = await ours.extract([text]);
      expect(maxAbsDiff(batch.vectors[i]!, alone.vectors[0]!)).toBeLessThan(batchTolerance);
      expect(cosine(batch.vectors[i]!, alone.vectors[0]!)).toBeGreaterThan(minCosine);
      expect(batch.tokenCounts[i]).toBe(alone.tokenCounts[0]);
    }
  });
});

describe('a long text', () => {
  it('is read in several windows, all its tokens counted, and its vector is their token-weighted mean', async () => {
    const runs: [number, number][] = [];
    const ours = await load('model', (rows, width) => runs.push([rows, width]));
    const text = textOf(600);
    const all = ours.countTokens([text])[0]!;
    const out = await ours.extract([text]);
    // 128-id windows hold 126 pieces each; every piece is read once, each window adds its [CLS] and [SEP].
    const pieces = all - 2 * out.windows[0]!;
    expect(out.windows[0]).toBe(Math.ceil(pieces / 126));
    expect(out.windows[0]).toBeGreaterThan(1);
    expect(out.tokenCounts[0]).toBe(all);
    expect(pieces).toBeGreaterThan(600);
    expect(out.truncated[0]).toBe(false);
    // The pieces are shared out evenly: one run of all windows, padded to the longest, which is at most 1 longer.
    expect(runs.at(-1)).toEqual([out.windows[0], Math.ceil(all / out.windows[0]!)]);
    expect(out.vectors[0]!.every(Number.isFinite)).toBe(true);
    // Its vector differs from its first sentence's: the later windows count.
    const first = (await ours.extract([sentences[0]!])).vectors[0]!;
    expect(cosine(out.vectors[0]!, first)).toBeLessThan(0.999);
  });

  it('past maxWindows is cut to that many full windows and reported', async () => {
    const ours = await extractorFromFiles({ read: folderReader(encoderDir), onnxFile: 'onnx/model_quantized.onnx', where: encoderDir, createSession: nodeSessionFactory('wasm'), maxWindows: 2 });
    const out = await ours.extract([textOf(600), 'short']);
    expect(out.windows).toEqual([2, 1]);
    expect(out.tokenCounts[0]).toBe(256);
    expect(out.truncated).toEqual([true, false]);
    expect(ours.countTokens([textOf(600)])).toEqual([256]);
    // What explanations ask before running the model: the same verdict as extract()'s.
    expect([ours.readsWhole(textOf(600)), ours.readsWhole('short')]).toEqual([false, true]);
  });

  it('splits a batch into runs of at most maxRunTokens padded ids', async () => {
    const runs: [number, number][] = [];
    const ours = await extractorFromFiles({
      read: folderReader(encoderDir), onnxFile: 'onnx/model.onnx', where: encoderDir, createSession: nodeSessionFactory('wasm'),
      maxRunTokens: 512, onRun: (rows, width) => runs.push([rows, width]),
    });
    const text = textOf(600);
    const [alone] = (await ours.extract([text])).vectors;
    expect(runs.every(([rows, width]) => rows * width <= 512)).toBe(true);
    const whole = await load('model');
    expect(maxAbsDiff(alone!, (await whole.extract([text])).vectors[0]!)).toBeLessThan(1e-5);
  });
});
