/** How far one runtime's class scores are from a reference's, sentence by sentence (both one sentence per run). */
import { argmax } from './classification-metrics.js';

export interface ScoreAgreement {
  /** Largest and mean absolute difference of the scores, over every class of every sentence. */
  maxDiff: number;
  meanDiff: number;
  /** Sentences whose top label differs. */
  labelsDiffering: number;
}

export function scoreAgreement(a: number[][], b: number[][]): ScoreAgreement {
  let maxDiff = 0;
  let sum = 0;
  let count = 0;
  let labelsDiffering = 0;
  a.forEach((row, i) => {
    row.forEach((x, k) => {
      const d = Math.abs(x - b[i]![k]!);
      maxDiff = Math.max(maxDiff, d);
      sum += d;
      count++;
    });
    if (argmax(row) !== argmax(b[i]!)) labelsDiffering++;
  });
  return { maxDiff, meanDiff: sum / count, labelsDiffering };
}
