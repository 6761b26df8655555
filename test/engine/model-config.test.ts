import { describe, expect, it } from 'vitest';
import { parseClassifierConfig } from '../../functions/engine/model-config.js';
import { applyScoreFunction, rankLabels } from '../../functions/engine/classification/scores.js';
import { classificationMetrics } from '../../models/tools/classification-metrics.js';

describe('parseClassifierConfig', () => {
  it('reads labels in id order and the smallest length limit', () => {
    const config = parseClassifierConfig(
      { model_type: 'bert', id2label: { 1: 'POSITIVE', 0: 'NEGATIVE' }, max_position_embeddings: 512 },
      { model_max_length: 128 },
    );
    expect(config).toEqual({ modelType: 'bert', labels: ['NEGATIVE', 'POSITIVE'], maxLength: 128 });
  });

  it('ignores the "very large integer" tokenizers use for no limit', () => {
    const config = parseClassifierConfig({ model_type: 'bert', id2label: { 0: 'a' }, max_position_embeddings: 64 }, { model_max_length: 1e30 });
    expect(config.maxLength).toBe(64);
  });

  it.each([
    [null, /no model_type/],
    [{ model_type: 'bert' }, /no id2label/],
    [{ model_type: 'bert', id2label: { 0: 'a', 2: 'b' } }, /map 0..n-1/],
  ])('rejects %j', (value, message) => {
    expect(() => parseClassifierConfig(value)).toThrow(message);
  });
});

describe('scores', () => {
  it('softmax sums to one and ranks labels', () => {
    const probs = applyScoreFunction([2, 0], 'softmax');
    expect(probs[0]! + probs[1]!).toBeCloseTo(1, 12);
    expect(probs[0]).toBeCloseTo(1 / (1 + Math.exp(-2)), 12);
    expect(rankLabels([0, 3], ['NEG', 'POS'], 'softmax', 1)).toEqual([{ label: 'POS', score: expect.closeTo(0.9526, 4) }]);
  });

  it('sigmoid and none apply per logit', () => {
    expect(applyScoreFunction([0], 'sigmoid')).toEqual([0.5]);
    expect(applyScoreFunction([-1.5, 2], 'none')).toEqual([-1.5, 2]);
  });
});

describe('classificationMetrics', () => {
  it('computes accuracy and per-class precision and recall', () => {
    const m = classificationMetrics([0, 0, 1, 1], [0, 1, 1, 1], ['NEG', 'POS']);
    expect(m.accuracy).toBe(0.75);
    expect(m.perClass).toEqual([
      { label: 'NEG', precision: 1, recall: 0.5, support: 2 },
      { label: 'POS', precision: 2 / 3, recall: 1, support: 2 },
    ]);
  });
});
