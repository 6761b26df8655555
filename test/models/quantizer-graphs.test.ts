import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { encodeModel, floatTensor, graphOf, decodeModel, node, onnx } from '../../models/tools/quantize/onnx-model.js';
import { quantizeDynamic } from '../../models/tools/quantize/quantize-dynamic.js';

const VOCAB = 2000;
const HIDDEN = 32;
const CLASSES = 3;

function seededRandom(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** A small encoder-shaped graph as other exporters write it: Gather, MatMul + Add, Gemm with transB, Gemm without. */
function buildGraph(): Uint8Array {
  const rand = seededRandom(7);
  const values = (n: number, scale: number) => Float32Array.from({ length: n }, () => rand() * scale);
  const f = onnx.TensorProto.DataType.FLOAT;
  const i64 = onnx.TensorProto.DataType.INT64;
  const io = (name: string, type: number, shape: (string | number)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: type, shape: { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
    });
  const graph = onnx.GraphProto.create({
    name: 'tiny-encoder',
    input: [io('input_ids', i64, ['batch', 'sequence']), io('attention_mask', i64, ['batch', 'sequence'])],
    output: [io('logits', f, ['batch', CLASSES])],
    initializer: [
      floatTensor('embeddings', [VOCAB, HIDDEN], values(VOCAB * HIDDEN, 0.5)),
      floatTensor('dense.weight', [HIDDEN, HIDDEN], values(HIDDEN * HIDDEN, 0.3)),
      floatTensor('dense.bias', [HIDDEN], values(HIDDEN, 0.1)),
      floatTensor('pooler.weight', [HIDDEN, HIDDEN], values(HIDDEN * HIDDEN, 0.3)),
      floatTensor('pooler.bias', [HIDDEN], values(HIDDEN, 0.1)),
      floatTensor('classifier.weight', [HIDDEN, CLASSES], values(HIDDEN * CLASSES, 0.3)),
      floatTensor('classifier.bias', [CLASSES], values(CLASSES, 0.1)),
    ],
    node: [
      node('Gather', ['embeddings', 'input_ids'], ['embedded'], 'embed'),
      node('MatMul', ['embedded', 'dense.weight'], ['dense_mm'], 'dense'),
      node('Add', ['dense_mm', 'dense.bias'], ['dense_out'], 'dense_bias'),
      node('Relu', ['dense_out'], ['hidden'], 'relu'),
      node('ReduceMean', ['hidden'], ['pooled_in'], 'mean', { keepdims: 0 }),
      onnx.NodeProto.create({
        opType: 'Gemm', input: ['pooled_in', 'pooler.weight', 'pooler.bias'], output: ['pooled'], name: 'pooler',
        attribute: [onnx.AttributeProto.create({ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 })],
      }),
      node('Tanh', ['pooled'], ['pooled_act'], 'tanh'),
      node('Gemm', ['pooled_act', 'classifier.weight', 'classifier.bias'], ['logits'], 'classifier'),
    ],
  });
  // ReduceMean over axis 1 needs the axes attribute, an int list.
  graph.node[4]!.attribute!.push(onnx.AttributeProto.create({ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] }));
  return encodeModel(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph }));
}

async function run(bytes: Uint8Array, ids: bigint[][]): Promise<Float32Array> {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(bytes);
  const shape = [ids.length, ids[0]!.length];
  const flat = BigInt64Array.from(ids.flat());
  const out = await session.run({
    input_ids: new ort.Tensor('int64', flat, shape),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(flat.length).fill(1n), shape),
  });
  return out.logits!.data as Float32Array;
}

describe('the int8 quantizer on a graph from another exporter', () => {
  it('quantizes Gather, MatMul and both Gemm forms, and the result tracks fp32', async () => {
    const fp32 = buildGraph();
    const { bytes, report } = quantizeDynamic(fp32);
    expect(report).toMatchObject({ matmuls: 1, gemms: 2, embeddings: 1 });
    const ops = graphOf(decodeModel(bytes)).node.map((n) => n.opType);
    expect(ops.filter((op) => op === 'MatMulInteger')).toHaveLength(3);
    expect(ops).not.toContain('Gemm');

    const ids = [[1n, 5n, 1999n, 42n], [7n, 7n, 300n, 0n]];
    const [a, b] = [await run(fp32, ids), await run(bytes, ids)];
    const scale = Math.max(...Array.from(a, Math.abs));
    a.forEach((x, i) => expect(Math.abs(x - b[i]!)).toBeLessThan(0.03 * scale));
  });

  it('leaves excluded nodes and small embedding tables in float32', () => {
    const { report } = quantizeDynamic(buildGraph(), { minEmbeddingRows: 5000, exclude: ['classifier'] });
    expect(report).toMatchObject({ matmuls: 1, gemms: 1, embeddings: 0 });
  });
});
