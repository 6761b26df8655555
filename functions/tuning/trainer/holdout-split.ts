/**
 * The seeded, stratified hold-out a job measures its model on when it has no validation file: each label keeps its
 * share on both sides, so a rare label is measured too and still trained on.
 */
import type { LabelledText } from './trainer.js';
import { seededRandom, shuffleInPlace } from './prng.js';

export const HOLDOUT_SHARE = 0.1;
/** Past this many rows a hold-out measures accuracy to within about a point; more would only take training rows. */
export const MAX_HOLDOUT_ROWS = 2_000;

export interface Split {
  /** Both in the order of `rows`. */
  train: LabelledText[];
  holdout: LabelledText[];
}

/** Whether any label has the two rows a hold-out needs (one to train on, one to measure). */
export const canHoldOut = (rows: LabelledText[]): boolean => labelGroups(rows).some((group) => group.length >= 2);

/**
 * Every label with at least 2 rows keeps at least one row on each side; a label with one row trains only. The hold-out
 * is `share` of the rows (at least one per such label, at most MAX_HOLDOUT_ROWS), apportioned to labels by their size.
 */
export function holdoutSplit(rows: LabelledText[], seed: number, share = HOLDOUT_SHARE): Split {
  if (!(share > 0 && share < 1)) throw new RangeError(`share must be between 0 and 1, got ${share}`);
  const groups = labelGroups(rows).filter((group) => group.length >= 2);
  const eligibleRows = groups.reduce((sum, group) => sum + group.length, 0);
  const target = Math.max(groups.length, Math.min(MAX_HOLDOUT_ROWS, Math.round(eligibleRows * share)));
  const counts = apportion(groups.map((group) => group.length), target);

  const random = seededRandom(seed);
  const held = new Uint8Array(rows.length);
  groups.forEach((group, g) => {
    shuffleInPlace(group, random);
    for (const index of group.slice(0, counts[g]!)) held[index] = 1;
  });
  const split: Split = { train: [], holdout: [] };
  rows.forEach((row, i) => (held[i] ? split.holdout : split.train).push(row));
  return split;
}

/** Row indices per label, labels in first-seen order. */
function labelGroups(rows: LabelledText[]): number[][] {
  const groups = new Map<string, number[]>();
  rows.forEach((row, i) => {
    const group = groups.get(row.label);
    if (group) group.push(i);
    else groups.set(row.label, [i]);
  });
  return [...groups.values()];
}

/**
 * `total` split in proportion to `sizes` by largest remainder, each part between 1 and its size - 1. Ties go to the
 * earlier label, so the split depends on nothing but its inputs.
 */
function apportion(sizes: number[], total: number): number[] {
  const all = sizes.reduce((sum, size) => sum + size, 0);
  const exact = sizes.map((size) => (size * total) / all);
  const counts = exact.map((value, i) => Math.min(sizes[i]! - 1, Math.max(1, Math.floor(value))));
  const order = sizes.map((_, i) => i).sort((a, b) => exact[b]! - Math.floor(exact[b]!) - (exact[a]! - Math.floor(exact[a]!)) || a - b);
  let sum = counts.reduce((s, c) => s + c, 0);
  for (let pass = 0; sum < total && pass < sizes.length; pass++) {
    let grew = false;
    for (const i of order) {
      if (sum >= total) break;
      if (counts[i]! < sizes[i]! - 1) {
        counts[i]!++;
        sum++;
        grew = true;
      }
    }
    if (!grew) break;
  }
  // Labels raised to their one row can overshoot the total: take back from the largest parts.
  while (sum > total) {
    let largest = -1;
    counts.forEach((count, i) => {
      if (count > 1 && (largest < 0 || count > counts[largest]!)) largest = i;
    });
    if (largest < 0) break;
    counts[largest]!--;
    sum--;
  }
  return counts;
}
