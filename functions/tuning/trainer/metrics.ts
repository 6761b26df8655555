/** What a hold-out says about a classifier, labels as indices into the head's label list. */
import type { LabelMetrics } from '../tuning-types.js';

export function accuracy(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  if (predicted.length !== actual.length) throw new RangeError(`${predicted.length} predictions for ${actual.length} rows`);
  if (actual.length === 0) return 0;
  let right = 0;
  for (let i = 0; i < actual.length; i++) if (predicted[i] === actual[i]) right++;
  return right / actual.length;
}

/** Precision and recall per label; a label never predicted has precision 0, one absent from the rows recall 0. */
export function perLabelMetrics(predicted: ArrayLike<number>, actual: ArrayLike<number>, labels: string[]): LabelMetrics[] {
  const truePositives = new Array<number>(labels.length).fill(0);
  const predictedCounts = new Array<number>(labels.length).fill(0);
  const support = new Array<number>(labels.length).fill(0);
  for (let i = 0; i < actual.length; i++) {
    predictedCounts[predicted[i]!]!++;
    support[actual[i]!]!++;
    if (predicted[i] === actual[i]) truePositives[actual[i]!]!++;
  }
  return labels.map((label, k) => ({
    label,
    precision: predictedCounts[k]! === 0 ? 0 : truePositives[k]! / predictedCounts[k]!,
    recall: support[k]! === 0 ? 0 : truePositives[k]! / support[k]!,
    support: support[k]!,
  }));
}

/** The most frequent training label (the first seen of a tie) and how often it is right on the hold-out. */
export function majorityBaseline(trainLabels: ArrayLike<number>, holdoutLabels: ArrayLike<number>, labels: string[]): { label: string; accuracy: number } {
  const counts = new Array<number>(labels.length).fill(0);
  for (let i = 0; i < trainLabels.length; i++) counts[trainLabels[i]!]!++;
  let majority = 0;
  counts.forEach((count, k) => {
    if (count > counts[majority]!) majority = k;
  });
  let right = 0;
  for (let i = 0; i < holdoutLabels.length; i++) if (holdoutLabels[i] === majority) right++;
  return { label: labels[majority]!, accuracy: holdoutLabels.length === 0 ? 0 : right / holdoutLabels.length };
}
