import { describe, expect, it } from 'vitest';
import { BatchCostModel } from '../../functions/engine/classification/batch-cost.js';

describe('BatchCostModel', () => {
  it('predicts nothing before a measurement', () => {
    expect(new BatchCostModel().predict(64)).toBe(0);
  });

  it('from one batch size, scales down but does not extrapolate up', () => {
    const model = new BatchCostModel();
    model.record(8, 40);
    expect(model.predict(8)).toBeCloseTo(40);
    expect(model.predict(4)).toBeCloseTo(20);
    expect(model.predict(64)).toBeCloseTo(40);
  });

  it('fits a fixed cost per run plus a cost per item', () => {
    const model = new BatchCostModel();
    for (const n of [1, 16, 64, 4, 32]) model.record(n, 5 + 2 * n);
    expect(model.predict(64)).toBeCloseTo(133);
    expect(model.predict(10)).toBeCloseTo(25);
  });

  it('fits summed weights as well as item counts: a fixed cost per run plus a cost per unit of weight', () => {
    const model = new BatchCostModel();
    // Batches of 64 texts of ~700 characters, then of 16 of ~150: the time follows the characters, not the texts.
    for (const weight of [64 * 700, 64 * 690, 16 * 150, 64 * 710, 16 * 160]) model.record(weight, 3 + weight / 100);
    expect(model.predict(64 * 150)).toBeCloseTo(3 + 96, 5);
    expect(model.predict(64 * 700)).toBeCloseTo(3 + 448, 5);
  });

  it('follows a change of speed within a few dozen batches', () => {
    const model = new BatchCostModel();
    for (let i = 0; i < 50; i++) model.record(i % 2 ? 64 : 32, (i % 2 ? 64 : 32) * 1);
    for (let i = 0; i < 60; i++) model.record(i % 2 ? 64 : 32, (i % 2 ? 64 : 32) * 3);
    expect(model.predict(64)).toBeGreaterThan(64 * 2.8);
    expect(model.predict(64)).toBeLessThan(64 * 3.1);
  });
});
