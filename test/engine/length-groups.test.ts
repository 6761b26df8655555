import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_RUN_TOKENS, groupByLength, runsOf } from '../../functions/engine/classification/sequence-classifier.js';
import { loadClassifier } from '../../functions/node/load-classifier.js';
import { sst2BertDir } from '../paths.js';

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
    const classifier = await loadClassifier(sst2BertDir, { variant: 'model', onRun: () => runs++ });
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

describe('runsOf (the cap on one session.run)', () => {
  it('cuts a length group, shortest first, into runs of at most the budget of padded tokens, one row at least', () => {
    expect(runsOf([0, 1, 2, 3, 4], [10, 10, 12, 12, 12], 36)).toEqual([[0, 1, 2], [3, 4]]);
    expect(runsOf([0, 1], [100, 120], 50)).toEqual([[0], [1]]); // a row longer than the budget still runs, alone
    expect(() => runsOf([0], [4], 0)).toThrow(RangeError);
  });
});

describe('SequenceClassifier with a cap on the tokens of one session.run', () => {
  const longTexts = Array.from({ length: 40 }, (_, i) => `${'a long , winding and ultimately rewarding story '.repeat(20)} number ${i}`);

  // fp32: the int8 file runs a text per session.run (loading/batch-dependence.ts), so only the cap splits fp32's runs.
  it('by default runs 40 texts of 128 tokens as runs of at most 2,048 padded tokens', async () => {
    const runs: [number, number][] = [];
    const classifier = await loadClassifier(sst2BertDir, { variant: 'model', onRun: (rows, width) => runs.push([rows, width]) });
    const out = await classifier.classify(longTexts);
    expect(out.tokenCounts.every((n) => n === 128)).toBe(true);
    expect(runs).toEqual([[16, 128], [16, 128], [8, 128]]);
    expect(runs.every(([rows, width]) => rows * width <= DEFAULT_MAX_RUN_TOKENS)).toBe(true);
  });

  it('gives each text the logits it gets uncapped (fp32: no per-run quantization)', async () => {
    const runs: [number, number][] = [];
    const capped = await loadClassifier(sst2BertDir, { variant: 'model', maxRunTokens: 300, onRun: (rows, width) => runs.push([rows, width]) });
    const whole = await loadClassifier(sst2BertDir, { variant: 'model', maxRunTokens: Infinity });
    const texts = [...longTexts.slice(0, 5), 'good', 'bad', 'fine film', 'an utterly dull , lifeless and overlong mess'];
    const [a, b] = [await capped.classify(texts), await whole.classify(texts)];
    expect(runs.length).toBeGreaterThan(3);
    expect(runs.every(([rows, width]) => rows * width <= 300 || rows === 1)).toBe(true);
    for (const i of texts.keys()) {
      const gap = Math.max(...Array.from(a.logits[i]!, (x, k) => Math.abs(x - b.logits[i]![k]!)));
      expect(gap).toBeLessThan(1e-4);
    }
  });
});
