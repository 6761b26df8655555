import { describe, expect, it } from 'vitest';
import { canHoldOut, holdoutSplit, MAX_HOLDOUT_ROWS } from '../../functions/tuning/trainer/holdout-split.js';
import { accuracy, majorityBaseline, perLabelMetrics } from '../../functions/tuning/trainer/metrics.js';
import { seededRandom, shuffleInPlace } from '../../functions/tuning/trainer/prng.js';
import type { LabelledText } from '../../functions/tuning/trainer/trainer.js';

const rowsOf = (counts: Record<string, number>): LabelledText[] => {
  const rows: LabelledText[] = [];
  for (const [label, count] of Object.entries(counts)) for (let i = 0; i < count; i++) rows.push({ text: `${label} ${i}`, label });
  // Interleave the labels, as a real file would.
  shuffleInPlace(rows, seededRandom(99));
  return rows;
};

const countBy = (rows: LabelledText[]): Record<string, number> => rows.reduce<Record<string, number>>((acc, row) => ({ ...acc, [row.label]: (acc[row.label] ?? 0) + 1 }), {});

describe('seededRandom', () => {
  it('repeats its stream for a seed, differs across seeds (high bits included), stays in [0, 1)', () => {
    const take = (seed: number) => Array.from({ length: 1_000 }, seededRandom(seed));
    expect(take(42)).toEqual(take(42));
    expect(take(42)).not.toEqual(take(43));
    expect(take(1)).not.toEqual(take(1 + 2 ** 32));
    const values = take(5);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.03);
  });

  it('refuses a seed that is not a safe integer', () => {
    expect(() => seededRandom(1.5)).toThrow(/safe integer/);
    expect(() => seededRandom(Number.NaN)).toThrow(/safe integer/);
  });
});

describe('holdoutSplit', () => {
  it('holds out a tenth of each label, keeps order and loses no row', () => {
    const rows = rowsOf({ pos: 600, neg: 400 });
    const { train, holdout } = holdoutSplit(rows, 1);
    expect(countBy(holdout)).toEqual({ pos: 60, neg: 40 });
    expect(train.length + holdout.length).toBe(1_000);
    expect(new Set([...train, ...holdout])).toEqual(new Set(rows));
    const position = new Map(rows.map((row, i) => [row, i]));
    for (const side of [train, holdout]) for (let i = 1; i < side.length; i++) expect(position.get(side[i]!)!).toBeGreaterThan(position.get(side[i - 1]!)!);
  });

  it('is the same for a seed and another for another seed', () => {
    const rows = rowsOf({ a: 50, b: 50, c: 50 });
    expect(holdoutSplit(rows, 3)).toEqual(holdoutSplit(rows, 3));
    expect(holdoutSplit(rows, 3).holdout).not.toEqual(holdoutSplit(rows, 4).holdout);
  });

  it('keeps a row of every label with two or more on each side; a single row trains', () => {
    const rows = rowsOf({ big: 300, two: 2, three: 3, one: 1 });
    const { train, holdout } = holdoutSplit(rows, 5);
    const held = countBy(holdout);
    const trained = countBy(train);
    expect(held.two).toBe(1);
    expect(held.three).toBe(1);
    expect(held.one).toBeUndefined();
    expect(trained).toMatchObject({ two: 1, three: 2, one: 1 });
    expect(held.big).toBeGreaterThanOrEqual(28);
    expect(holdout.length).toBe(Math.round(305 * 0.1));
  });

  it('caps the hold-out at 2,000 rows, still stratified', () => {
    const rows = rowsOf({ a: 30_000, b: 10_000, c: 5 });
    const { holdout } = holdoutSplit(rows, 6);
    expect(holdout.length).toBe(MAX_HOLDOUT_ROWS);
    const held = countBy(holdout);
    expect(held.c).toBeGreaterThanOrEqual(1);
    expect(Math.abs(held.a! / held.b! - 3)).toBeLessThan(0.05);
  });

  it('holds out nothing when no label has two rows, and says so', () => {
    const rows = [{ text: 'x', label: 'a' }, { text: 'y', label: 'b' }];
    expect(canHoldOut(rows)).toBe(false);
    expect(holdoutSplit(rows, 1).holdout).toEqual([]);
    expect(canHoldOut([...rows, { text: 'z', label: 'a' }])).toBe(true);
  });
});

describe('metrics', () => {
  it('accuracy, per-label precision/recall/support, and the majority baseline', () => {
    const labels = ['pos', 'neg', 'meh'];
    const actual = [0, 0, 0, 1, 1, 2];
    const predicted = [0, 0, 1, 1, 0, 0];
    expect(accuracy(predicted, actual)).toBeCloseTo(3 / 6);
    expect(perLabelMetrics(predicted, actual, labels)).toEqual([
      { label: 'pos', precision: 2 / 4, recall: 2 / 3, support: 3 },
      { label: 'neg', precision: 1 / 2, recall: 1 / 2, support: 2 },
      { label: 'meh', precision: 0, recall: 0, support: 1 },
    ]);
    expect(majorityBaseline([1, 1, 0, 2, 1], actual, labels)).toEqual({ label: 'neg', accuracy: 2 / 6 });
    expect(majorityBaseline([2, 0, 0, 2], actual, labels).label).toBe('pos');
    expect(() => accuracy([0], [0, 1])).toThrow(/1 predictions for 2 rows/);
  });
});
