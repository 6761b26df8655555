/**
 * Evaluates model variants on a labelled set, one sentence at a time (the edge's request shape). Variants take
 * turns on each sentence so that machine noise hits them alike and their latencies can be compared.
 */
import type { SequenceClassifier } from '../../functions/engine/classification/sequence-classifier.js';
import { argmax, classificationMetrics, type Metrics } from './classification-metrics.js';
import type { LabelledText } from './labelled-tsv.js';

export interface VariantResult extends Metrics {
  variant: string;
  predictions: number[];
  /** Mean milliseconds per sentence: tokenizing plus session.run, and session.run alone. */
  meanLatencyMs: number;
  meanInferenceMs: number;
}

const WARMUP = 20;

export async function evaluateVariants(variants: Map<string, SequenceClassifier>, data: LabelledText[]): Promise<VariantResult[]> {
  const entries = [...variants.entries()];
  for (const [, classifier] of entries) {
    for (const row of data.slice(0, WARMUP)) await classifier.classify([row.text]);
  }
  const state = entries.map(() => ({ predictions: [] as number[], total: 0, inference: 0 }));
  for (const [i, row] of data.entries()) {
    for (let k = 0; k < entries.length; k++) {
      const j = (i + k) % entries.length; // rotate who goes first
      const started = performance.now();
      const out = await entries[j]![1].classify([row.text]);
      state[j]!.total += performance.now() - started;
      state[j]!.inference += out.inferenceMs;
      state[j]!.predictions[i] = argmax(out.logits[0]!);
    }
  }
  const gold = data.map((row) => row.label);
  return entries.map(([variant, classifier], j) => ({
    variant,
    predictions: state[j]!.predictions,
    ...classificationMetrics(gold, state[j]!.predictions, classifier.labels),
    meanLatencyMs: state[j]!.total / data.length,
    meanInferenceMs: state[j]!.inference / data.length,
  }));
}

export function agreement(a: number[], b: number[]): number {
  return a.filter((x, i) => x === b[i]).length / a.length;
}
