// A text's answer must not depend on the texts it shares a session.run with (another request's, on a busy server):
// the int8 transformers quantize activations per run (loading/batch-dependence.ts), so they run a text per run; the
// BiLSTM's rows never interact. Real registry models, both onnxruntime backends.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SequenceClassifier } from '../../functions/engine/classification/sequence-classifier.js';
import { scalesActivationsPerRun } from '../../functions/engine/loading/batch-dependence.js';
import { loadClassifier } from '../../functions/node/load-classifier.js';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import { loadEncoder } from '../../functions/node/thread-trainer.js';
import { defaultModelDir, repoRoot, sst2BertDir } from '../paths.js';

// Near-ties and lengths from 3 to ~40 tokens; the first pair is the one a hostile test found flipping label.
const texts = [
  'a charming and tedious film number 30',
  'a charming and tedious film number 30 plus',
  ...Array.from({ length: 30 }, (_, i) => `${['a warm', 'a dull', 'an odd', 'a sharp'][i % 4]} ${'and uneven '.repeat(i % 7)}story , take ${i} .`),
];

const maxDelta = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.flatMap((row, i) => [...row].map((v, j) => Math.abs(v - b[i]![j]!))));

describe('a text classified alone or among others', () => {
  it.each([
    ['sst2-bert@3, onnxruntime-node', sst2BertDir, 'node'],
    ['sst2-bert@3, onnxruntime-web', sst2BertDir, 'wasm'],
    ['sst2-glove-bilstm@2, onnxruntime-node', defaultModelDir, 'node'],
  ] as const)('gets the same logits: %s', async (_, dir, backend) => {
    const classifier = await loadClassifier(dir, { variant: 'model_quantized', backend });
    const together = (await classifier.classify(texts)).logits;
    const alone = await Promise.all(texts.map(async (text) => (await classifier.classify([text])).logits[0]!));
    expect(maxDelta(together, alone)).toBeLessThan(1e-5);
  }, 60_000);

  it('the encoder that tenant models run on, too', async () => {
    const registry = await readLocalRegistry();
    const encoder = await loadEncoder(registry.resolve('electra-imdb-small@1')!);
    const together = (await encoder.embed(texts)).map((e) => e.vector);
    const alone = await Promise.all(texts.map(async (text) => (await encoder.embed([text]))[0]!.vector));
    expect(maxDelta(together, alone)).toBeLessThan(1e-5);
  }, 60_000);

  it('is why: the transformer run over whole batches moves scores, which only dynamically quantized graphs do', async () => {
    const bytes = (path: string) => new Uint8Array(readFileSync(resolve(repoRoot, 'models', path)));
    expect(scalesActivationsPerRun(bytes('sst2-bert/onnx/model_quantized.onnx'))).toBe(true);
    expect(scalesActivationsPerRun(bytes('electra-imdb-small/onnx/model_quantized.onnx'))).toBe(true);
    expect(scalesActivationsPerRun(bytes('sst2-bert/onnx/model.onnx'))).toBe(false);
    expect(scalesActivationsPerRun(bytes('sst2-glove-bilstm-v2/onnx/model_quantized.onnx'))).toBe(false);
    // The same session, batched as before this rule: the pair of near-identical texts alone and together differ.
    const served = await loadClassifier(sst2BertDir, { variant: 'model_quantized', backend: 'node' });
    const batched = new SequenceClassifier({ ...(served as unknown as { session: never; tokenizer: never; createTensor: never }), labels: served.labels });
    const together = (await batched.classify(texts)).logits;
    const alone = await Promise.all(texts.map(async (text) => (await batched.classify([text])).logits[0]!));
    expect(maxDelta(together, alone)).toBeGreaterThan(1e-3);
  }, 60_000);
});
