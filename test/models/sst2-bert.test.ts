import { dirname, basename } from 'node:path';
import { env, pipeline } from '@xenova/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadClassifier } from '../../functions/node/load-classifier.js';
import { rankLabels } from '../../functions/engine/classification/scores.js';
import type { SequenceClassifier } from '../../functions/engine/classification/sequence-classifier.js';
import { readLabelledTsv } from '../../models/tools/labelled-tsv.js';
import { defaultModelDir, devTsv } from '../paths.js';

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = dirname(defaultModelDir) + '/';

const clearlyPositive = [
  'a wonderful , heartfelt film with brilliant performances .',
  'one of the best movies of the year , funny and moving .',
  'an absolute delight from start to finish .',
];
const clearlyNegative = [
  'a dull , boring mess with terrible acting .',
  'the worst film of the year : stupid , tedious and ugly .',
  'an awful , lifeless waste of time .',
];

type Pipeline = (texts: string[], options: { topk: number }) => Promise<{ label: string; score: number }[][]>;

describe.each([
  ['fp32', 'model', false],
  ['int8', 'model_quantized', true],
] as const)('the committed default model (%s)', (_name, variant, quantized) => {
  let ours: SequenceClassifier;
  let reference: Pipeline;

  beforeAll(async () => {
    ours = await loadClassifier(defaultModelDir, { variant });
    reference = (await pipeline('text-classification', basename(defaultModelDir), { quantized })) as unknown as Pipeline;
  });

  it('gives the labels and scores of the transformers.js pipeline within 1e-4', async () => {
    const texts = (await readLabelledTsv(devTsv)).slice(0, 64).map((r) => r.text);
    const expected = await reference(texts, { topk: 2 });
    for (const [i, text] of texts.entries()) {
      const got = rankLabels((await ours.classify([text])).logits[0]!, ours.labels);
      expect(got.map((g) => g.label)).toEqual(expected[i]!.map((e) => e.label));
      got.forEach((g, k) => expect(Math.abs(g.score - expected[i]![k]!.score)).toBeLessThan(1e-4));
    }
  });

  it('classifies clearly positive and clearly negative sentences correctly', async () => {
    const batch = await ours.classify([...clearlyPositive, ...clearlyNegative]);
    const labels = batch.logits.map((l) => rankLabels(l, ours.labels)[0]!.label);
    expect(labels).toEqual([...clearlyPositive.map(() => 'POSITIVE'), ...clearlyNegative.map(() => 'NEGATIVE')]);
  });

  it('gives the same scores for a sentence alone and inside a padded batch', async () => {
    const alone = (await ours.classify([clearlyPositive[0]!])).logits[0]!;
    const batched = (await ours.classify(['short', clearlyPositive[0]!, clearlyNegative[1]!])).logits[1]!;
    alone.forEach((x, k) => expect(batched[k]).toBeCloseTo(x, 3));
  });
});
