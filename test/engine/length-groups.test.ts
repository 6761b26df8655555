import { describe, expect, it } from 'vitest';
import { groupByLength } from '../../functions/engine/classification/sequence-classifier.js';
import { loadClassifier } from '../../functions/node/load-classifier.js';
import { defaultModelDir } from '../paths.js';

describe('groupByLength', () => {
  it('keeps similar lengths together and splits where padding would pass the limit', () => {
    expect(groupByLength([10, 10, 10], 0.2)).toEqual([[0, 1, 2]]);
    const groups = groupByLength([40, 5, 6, 42, 5, 41], 0.2);
    expect(groups).toEqual([[1, 4, 2], [0, 5, 3]]);
  });

  it('never loses or repeats an index, and every group respects the limit', () => {
    const lengths = Array.from({ length: 200 }, (_, i) => 3 + ((i * 37) % 60));
    const groups = groupByLength(lengths, 0.2);
    expect(groups.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    for (const group of groups) {
      const widths = group.map((i) => lengths[i]!);
      const padded = Math.max(...widths) * widths.length;
      expect(padded - widths.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(0.2 * padded);
    }
  });
});

describe('SequenceClassifier with mixed lengths', () => {
  it('splits a batch into runs by length and returns each text its own logits, as when run alone (fp32)', async () => {
    let runs = 0;
    const classifier = await loadClassifier(defaultModelDir, { variant: 'model', onRun: () => runs++ });
    const texts = ['good', 'a long , winding and ultimately rewarding story about two brothers who never quite forgive each other', 'bad', 'fine film', 'an utterly dull , lifeless and overlong mess that wastes a fine cast and a clever premise entirely'];
    const before = runs;
    const batch = await classifier.classify(texts);
    expect(runs - before).toBe(2);
    for (const [i, text] of texts.entries()) {
      const alone = await classifier.classify([text]);
      const gap = Math.max(...Array.from(batch.logits[i]!, (x, k) => Math.abs(x - alone.logits[0]![k]!)));
      expect(gap).toBeLessThan(1e-4);
    }
  });
});
