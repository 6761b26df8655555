import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { SequenceClassifier } from '../../functions/engine/classification/sequence-classifier.js';
import { WordPieceTokenizer } from '../../functions/engine/tokenizer/wordpiece-tokenizer.js';
import { argmax } from '../../models/tools/classification-metrics.js';
import { readLabelledTsv } from '../../models/tools/labelled-tsv.js';
import { decodeModel, graphOf } from '../../models/tools/quantize/onnx-model.js';
import { quantizeDynamic } from '../../models/tools/quantize/quantize-dynamic.js';
import { devTsv, sst2BertDir, sharedDir } from '../paths.js';

async function classifier(bytes: Uint8Array, tokenizer: WordPieceTokenizer): Promise<SequenceClassifier> {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  return new SequenceClassifier({ session, tokenizer, createTensor: (t, d, s) => new ort.Tensor(t, d, s), labels: ['NEGATIVE', 'POSITIVE'] });
}

async function predictAll(model: SequenceClassifier, texts: string[]): Promise<number[]> {
  const labels: number[] = [];
  for (let i = 0; i < texts.length; i += 32) {
    for (const logits of (await model.classify(texts.slice(i, i + 32))).logits) labels.push(argmax(logits));
  }
  return labels;
}

describe('the int8 quantizer on the committed fp32 model', () => {
  let fp32: Uint8Array;
  let int8: Uint8Array;
  let report: ReturnType<typeof quantizeDynamic>['report'];

  beforeAll(async () => {
    fp32 = await readFile(join(sst2BertDir, 'onnx', 'model.onnx'));
    ({ bytes: int8, report } = quantizeDynamic(fp32));
  });

  it('replaces every float MatMul with a constant weight by integer MatMul kernels', () => {
    const graph = graphOf(decodeModel(int8));
    const constants = new Set(graph.initializer.map((t) => t.name));
    const ops = graph.node.map((n) => n.opType);
    expect(ops.filter((op) => op === 'MatMulInteger').length).toBe(report.matmuls + report.gemms);
    expect(ops).toContain('DynamicQuantizeLinear');
    expect(graph.node.filter((n) => (n.opType === 'MatMul' || n.opType === 'Gemm') && constants.has(n.input![1]!))).toEqual([]);
    expect(report.matmuls + report.gemms).toBeGreaterThanOrEqual(4 * 6);
    expect(report.embeddings).toBeGreaterThanOrEqual(1);
  });

  it('gives the committed int8 file byte for byte, with the registry\'s sha256', async () => {
    const registry = JSON.parse(await readFile(join(sst2BertDir, '..', 'registry.json'), 'utf8')) as { models: { id: string; files?: Record<string, string> }[] };
    const sha256 = registry.models.find((m) => m.id === 'sst2-bert')!.files!['onnx/model_quantized.onnx'];
    expect(createHash('sha256').update(int8).digest('hex')).toBe(sha256);
    expect(Buffer.compare(Buffer.from(int8), await readFile(join(sst2BertDir, 'onnx', 'model_quantized.onnx')))).toBe(0);
  });

  it('makes the file at most a third of fp32', () => {
    expect(int8.length).toBeLessThanOrEqual(fp32.length / 3);
  });

  it('agrees with fp32 on at least 99% of SST-2 dev labels in onnxruntime-web', async () => {
    const tokenizer = WordPieceTokenizer.fromJson(JSON.parse(await readFile(join(sst2BertDir, 'tokenizer.json'), 'utf8')), 128);
    const texts = (await readLabelledTsv(devTsv)).map((r) => r.text);
    const a = await predictAll(await classifier(fp32, tokenizer), texts);
    const b = await predictAll(await classifier(int8, tokenizer), texts);
    const agreement = a.filter((x, i) => x === b[i]).length / a.length;
    expect(agreement).toBeGreaterThanOrEqual(0.99);
  });

  it('refuses graphs that are not BERT-like with a one-line reason', async () => {
    const decoder = await readFile(join(sharedDir, 'models', 'stories260K', 'onnx', 'model.onnx'));
    expect(() => quantizeDynamic(decoder)).toThrow(/not a BERT-like model: it takes past_key_values/);
    expect(() => quantizeDynamic(new TextEncoder().encode('{"not": "onnx"}'))).toThrow(/not an ONNX model/);
  });
});
