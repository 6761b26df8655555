// The committed GloVe BiLSTM (models/sst2-glove-bilstm-v2, the registry's default sentiment model: version 1's export
// by models/recipes/sentiment-v3/export_bilstm.py with the words its cut dropped filled back from GloVe by edge_fill.py). transformers.js has no BiLSTM class, so the reference is torch:
// the export wrote torch's logits for sentences written for the check (reference_logits.json), computed with the
// word table as the int8 file stores it; the LSTM is float32 in both, so the engine must agree closely, on WASM
// and on native onnxruntime, alone and inside a padded batch (ONNX's LSTM takes each row's length).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadClassifier, type OrtBackend } from '../../functions/node/load-classifier.js';
import { rankLabels } from '../../functions/engine/classification/scores.js';
import type { SequenceClassifier } from '../../functions/engine/classification/sequence-classifier.js';
import { evaluateVariants } from '../../models/tools/evaluate.js';
import { readLabelledTsv } from '../../models/tools/labelled-tsv.js';
import { defaultModelDir as folder, devTsv, repoRoot } from '../paths.js';

const reference = JSON.parse(await readFile(join(folder, 'reference_logits.json'), 'utf8')) as { texts: string[]; logits: number[][] };

describe.each(['wasm', 'node'] as OrtBackend[])('the committed GloVe BiLSTM on %s', (backend) => {
  let model: SequenceClassifier;
  beforeAll(async () => {
    model = await loadClassifier(folder, { variant: 'model_quantized', backend });
  });

  it("gives torch's logits for each reference sentence alone, within 2e-3", async () => {
    for (const [i, text] of reference.texts.entries()) {
      const [got] = (await model.classify([text])).logits;
      got!.forEach((x, k) => expect(Math.abs(x - reference.logits[i]![k]!), `${text} [${k}]`).toBeLessThan(2e-3));
    }
  });

  it('answers the same inside a padded batch of mixed lengths as alone', async () => {
    const batch = (await model.classify(reference.texts)).logits;
    for (const [i, text] of reference.texts.entries()) {
      const [alone] = (await model.classify([text])).logits;
      alone!.forEach((x, k) => expect(Math.abs(batch[i]![k]! - x), text).toBeLessThan(1e-4));
    }
  });

  it('labels clearly positive and clearly negative sentences', async () => {
    const texts = ['a wonderful , heartfelt film with brilliant performances .', 'an awful , lifeless waste of time .'];
    const labels = (await model.classify(texts)).logits.map((l) => rankLabels(l, model.labels)[0]!.label);
    expect(labels).toEqual(['POSITIVE', 'NEGATIVE']);
  });
});

// edge-fill appends rows after version 1's ids: a text of version 1's words answers exactly as version 1 did (the
// reference logits above are version 1's torch logits, none of their words was added); a text with added words not.
describe('the filled table against version 1 (models/sst2-glove-bilstm)', () => {
  it('answers v1 texts bit for bit as v1, and texts with filled words (v1: [UNK]) otherwise', async () => {
    const v1 = await loadClassifier(join(repoRoot, 'models', 'sst2-glove-bilstm'), { variant: 'model_quantized', backend: 'wasm' });
    const v2 = await loadClassifier(folder, { variant: 'model_quantized', backend: 'wasm' });
    const known = ['A wonderful film.', 'an awful , lifeless waste of time .', ...reference.texts];
    expect((await v2.classify(known)).logits).toEqual((await v1.classify(known)).logits);
    const vocab = (await readFile(join(folder, 'vocab.txt'), 'utf8')).split('\n');
    const v1Size = (await readFile(join(repoRoot, 'models', 'sst2-glove-bilstm', 'vocab.txt'), 'utf8')).split('\n').length;
    for (const word of ['airheaded', 'amatuer', 'contemptuously']) expect(vocab.indexOf(word), word).toBeGreaterThanOrEqual(v1Size - 1);
    const filled = ['an airheaded , amatuer mess .', 'he smiles contemptuously .'];
    const [a, b] = [(await v1.classify(filled)).logits, (await v2.classify(filled)).logits];
    for (const i of filled.keys()) expect(Math.abs(a[i]![0]! - b[i]![0]!), filled[i]).toBeGreaterThan(1e-3);
  });
});

// The card's figure comes from run.sh edge-eval (`npm run models:eval`, WASM, one thread) into eval_sst2_dev.json.
describe('the committed GloVe BiLSTM on SST-2 dev', () => {
  it('scores the int8 accuracy its model card states', async () => {
    const evaluation = JSON.parse(await readFile(join(folder, 'eval_sst2_dev.json'), 'utf8')) as { rows: number; results: { variant: string; accuracy: number }[] };
    const stated = evaluation.results.find((r) => r.variant === 'model_quantized')!.accuracy;
    const card = await readFile(join(folder, 'README.md'), 'utf8');
    expect(card).toContain(`SST-2 dev accuracy ${(100 * stated).toFixed(2)} % int8`);
    const dev = await readLabelledTsv(devTsv);
    expect(dev).toHaveLength(evaluation.rows);
    const int8 = await loadClassifier(folder, { variant: 'model_quantized', threads: 1 });
    const [result] = await evaluateVariants(new Map([['model_quantized', int8]]), dev);
    expect(100 * result!.accuracy).toBeCloseTo(100 * stated, 1);
  }, 60_000);
});
