/** Turns one row of logits into Hugging Face-shaped [{label, score}] sorted by score. */
export interface LabelScore {
  label: string;
  score: number;
}

export const SCORE_FUNCTIONS = ['softmax', 'sigmoid', 'none'] as const;
export type ScoreFunction = (typeof SCORE_FUNCTIONS)[number];

export function applyScoreFunction(logits: ArrayLike<number>, fn: ScoreFunction): number[] {
  const values = Array.from(logits);
  if (fn === 'none') return values;
  if (fn === 'sigmoid') return values.map((x) => 1 / (1 + Math.exp(-x)));
  const max = Math.max(...values);
  const exps = values.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export function rankLabels(logits: ArrayLike<number>, labels: string[], fn: ScoreFunction = 'softmax', topK = labels.length): LabelScore[] {
  return applyScoreFunction(logits, fn)
    .map((score, i) => ({ label: labels[i]!, score }))
    .sort((a, b) => b.score - a.score)
    .slice(0, topK);
}
