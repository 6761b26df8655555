import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOGITS, mergeHead } from '../../functions/tuning/export/merge-head.js';
import { decodeModel, defaultOpset, encodeModel, OnnxExportError, type Graph, type Model } from '../../functions/tuning/export/onnx-graph.js';
import type { ClassifierHead } from '../../functions/tuning/trainer/classifier-head.js';
import { repoRoot } from '../paths.js';

const encoderOnnx = join(repoRoot, 'models', 'electra-imdb-small', 'onnx', 'model_quantized.onnx');
const DIMENSIONS = 192;
const graphOf = (model: Model) => model.graph as Graph;

/** A head whose every weight differs, so a transposed or shifted matrix gives other logits. */
function patternedHead(labels: string[]): ClassifierHead {
  const weights = Float32Array.from({ length: labels.length * DIMENSIONS }, (_, i) => Math.sin(0.37 * i + 1) * 0.2);
  const bias = Float32Array.from(labels, (_, k) => 0.3 * k - 0.2);
  return { base: 'electra-imdb-small@1', labels, dimensions: DIMENSIONS, weights, bias };
}

const int64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);

// Two rows padded to one width: the second has 4 real tokens and 4 of padding, which pooling must leave out.
const ids = [[101, 2023, 2003, 1037, 2200, 2204, 3185, 102], [101, 6659, 3185, 102, 0, 0, 0, 0]];
const mask = ids.map((row, r) => row.map((_, t) => (r === 0 || t < 4 ? 1 : 0)));
const feeds = () => ({ input_ids: int64(ids), attention_mask: int64(mask), token_type_ids: int64(ids.map((row) => row.map(() => 0))) });

describe('mergeHead on the committed base encoder (int8)', () => {
  let base: Uint8Array;
  const head = patternedHead(['positive', 'negative', 'neutral']);
  let merged: Uint8Array;

  beforeAll(async () => {
    base = new Uint8Array(await readFile(encoderOnnx));
    merged = mergeHead(base, head);
  });

  it('decodes and re-encodes the base to the same bytes, so nothing of it is lost in the merge', () => {
    expect(Buffer.compare(Buffer.from(encodeModel(decodeModel(base))), Buffer.from(base))).toBe(0);
  });

  it('keeps the base\'s IR version, operator sets and inputs, and outputs only logits [batch, labels]', () => {
    const before = decodeModel(base);
    const after = decodeModel(merged);
    expect(Number(after.irVersion)).toBe(Number(before.irVersion));
    expect(defaultOpset(after)).toBe(defaultOpset(before));
    expect(graphOf(after).input.map((i) => i.name)).toEqual(graphOf(before).input.map((i) => i.name));
    expect(graphOf(after).output.map((o) => o.name)).toEqual([LOGITS]);
    const dims = graphOf(after).output[0]!.type!.tensorType!.shape!.dim!;
    expect(dims.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch_size', 3]);
  });

  it('runs in onnxruntime-node and gives the head over the masked mean of last_hidden_state', async () => {
    const encoder = await ort.InferenceSession.create(base, { intraOpNumThreads: 1 });
    const session = await ort.InferenceSession.create(merged, { intraOpNumThreads: 1 });
    expect(session.outputNames).toEqual([LOGITS]);
    const hidden = (await encoder.run(feeds())).last_hidden_state!;
    const logits = (await session.run(feeds()))[LOGITS]!;
    expect(logits.type).toBe('float32');
    expect(logits.dims).toEqual([2, 3]);
    const [, width] = [ids.length, ids[0]!.length];
    const h = hidden.data as Float32Array;
    mask.forEach((row, r) => {
      const pooled = new Float64Array(DIMENSIONS);
      const kept = row.filter((m) => m === 1).length;
      for (let t = 0; t < kept; t++) for (let d = 0; d < DIMENSIONS; d++) pooled[d]! += h[(r * width + t) * DIMENSIONS + d]! / kept;
      head.labels.forEach((_, k) => {
        let expected = head.bias[k]!;
        for (let d = 0; d < DIMENSIONS; d++) expected += head.weights[k * DIMENSIONS + d]! * pooled[d]!;
        expect(Math.abs((logits.data as Float32Array)[r * 3 + k]! - expected)).toBeLessThan(1e-5);
      });
    });
  });

  it('refuses a head of another width, a head whose weights do not fill it, and bytes that are no ONNX model', () => {
    expect(() => mergeHead(base, { ...patternedHead(['a', 'b']), dimensions: 100, weights: new Float32Array(200) })).toThrow(/reads 100 features but the base encoder gives 192/);
    expect(() => mergeHead(base, { ...patternedHead(['a', 'b']), bias: new Float32Array(3) })).toThrow(OnnxExportError);
    expect(() => mergeHead(new TextEncoder().encode('not a model'), patternedHead(['a', 'b']))).toThrow(OnnxExportError);
  });

  it('refuses a model without last_hidden_state (a classifier is no encoder)', async () => {
    const classifier = new Uint8Array(await readFile(join(repoRoot, 'models', 'sst2-bert', 'onnx', 'model_quantized.onnx')));
    expect(() => mergeHead(classifier, patternedHead(['a', 'b']))).toThrow(/no "last_hidden_state" output/);
  });
});
