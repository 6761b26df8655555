import { describe, expect, it } from 'vitest';
import { scoreAgreement } from '../../models/tools/score-agreement.js';

describe('scoreAgreement', () => {
  it('gives the largest and mean score difference and counts sentences whose top label differs', () => {
    const a = [[0.9, 0.1], [0.45, 0.55], [0.2, 0.8]];
    const b = [[0.8, 0.2], [0.55, 0.45], [0.2, 0.8]];
    const { maxDiff, meanDiff, labelsDiffering } = scoreAgreement(a, b);
    expect(maxDiff).toBeCloseTo(0.1, 12);
    expect(meanDiff).toBeCloseTo(0.4 / 6, 12);
    expect(labelsDiffering).toBe(1);
  });
});
