import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { encodeModel, floatTensor, node, onnx } from '../../models/tools/quantize/onnx-model.js';
import { quantizeDynamic } from '../../models/tools/quantize/quantize-dynamic.js';
import type { WeightFormat } from '../../models/tools/quantize/weight-format.js';

const VOCAB = 64;
const HIDDEN = 256;
const OUT = 16;

/**
 * input_ids → Gather (positive fp32 rows) → MatMul (positive weights): activations quantize to uint8 near 255 and
 * int8 weights near 127, the worst case for a u8s8 kernel that adds product pairs into a saturating int16
 * (VPMADDUBSW, x86 AVX2 without VNNI): 2·255·127 = 64,770 > 32,767.
 */
function worstCaseGraph(): Uint8Array {
  const f = onnx.TensorProto.DataType.FLOAT;
  const io = (name: string, type: number, shape: (string | number)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: type, shape: { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
    });
  const ramp = (n: number, period: number) => Float32Array.from({ length: n }, (_, i) => 0.75 + 0.25 * Math.cos(i % period));
  const graph = onnx.GraphProto.create({
    name: 'saturation',
    input: [io('input_ids', onnx.TensorProto.DataType.INT64, ['batch', 'sequence'])],
    output: [io('y', f, ['batch', 'sequence', OUT])],
    initializer: [floatTensor('embeddings', [VOCAB, HIDDEN], ramp(VOCAB * HIDDEN, 7)), floatTensor('w', [HIDDEN, OUT], ramp(HIDDEN * OUT, 5))],
    node: [node('Gather', ['embeddings', 'input_ids'], ['x'], 'embed'), node('MatMul', ['x', 'w'], ['y'], 'dense')],
  });
  return encodeModel(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph }));
}

const ids = BigInt64Array.from({ length: 2 * 8 }, (_, i) => BigInt((i * 5) % VOCAB));

async function runWeb(bytes: Uint8Array): Promise<Float32Array> {
  ortWeb.env.wasm.numThreads = 1;
  const session = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return (await session.run({ input_ids: new ortWeb.Tensor('int64', ids, [2, 8]) })).y!.data as Float32Array;
}

async function runNative(bytes: Uint8Array): Promise<Float32Array> {
  const session = await ortNode.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  return (await session.run({ input_ids: new ortNode.Tensor('int64', ids, [2, 8]) })).y!.data as Float32Array;
}

const maxRelativeGap = (a: Float32Array, b: Float32Array) => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i]!) / Math.abs(x)));

describe('saturation-safe int8 weights', () => {
  const fp32 = worstCaseGraph();
  const quantized = (weights: WeightFormat) => quantizeDynamic(fp32, { weights, minEmbeddingRows: VOCAB + 1 }).bytes;

  // On this project's AMD EPYC (AVX2, no VNNI) the 'int8' format puts onnxruntime-node up to 17.5 % below WASM on
  // this graph (WASM is within 0.2 % of fp32); with VNNI the two agree. That depends on the CPU, so it is not
  // asserted; the safe formats agree on every CPU (here: identical outputs).
  it.each(['uint8', 'int8-reduce-range'] as const)('%s weights give the same outputs in onnxruntime-node as in WASM, close to fp32', async (weights) => {
    const [reference, web, native] = [await runWeb(fp32), await runWeb(quantized(weights)), await runNative(quantized(weights))];
    expect(maxRelativeGap(web, native)).toBeLessThan(1e-6);
    expect(maxRelativeGap(reference, web)).toBeLessThan(0.01);
  });

  it('uint8 weights are the int8 ones shifted by 128: WASM gives the same outputs for both', async () => {
    const [int8, uint8] = [await runWeb(quantized('int8')), await runWeb(quantized('uint8'))];
    expect(maxRelativeGap(int8, uint8)).toBeLessThan(1e-6);
  });
});
