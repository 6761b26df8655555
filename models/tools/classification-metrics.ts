/** Accuracy and per-class precision and recall of predicted class ids against gold ones. */
export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  support: number;
}

export interface Metrics {
  accuracy: number;
  perClass: ClassMetrics[];
}

export function classificationMetrics(gold: number[], predicted: number[], labels: string[]): Metrics {
  const correct = gold.filter((g, i) => g === predicted[i]).length;
  const perClass = labels.map((label, c) => {
    const truePositives = gold.filter((g, i) => g === c && predicted[i] === c).length;
    const predictedC = predicted.filter((p) => p === c).length;
    const support = gold.filter((g) => g === c).length;
    return {
      label,
      precision: predictedC ? truePositives / predictedC : 0,
      recall: support ? truePositives / support : 0,
      support,
    };
  });
  return { accuracy: gold.length ? correct / gold.length : 0, perClass };
}

export const argmax = (values: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
};
