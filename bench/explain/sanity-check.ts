/**
 * The model-randomisation sanity check (Adebayo et al. 2018): explanations that stay the same when the classifier's
 * weights are random explain the input, not the model. Per text (3 words or more), the Spearman correlation of its
 * attributions toward the trained model's predicted label: trained against a rerun of the trained model, and against
 * models with the classifier layer randomised (several seeds), and with the pooler below it randomised too (the
 * paper's cascading variant).
 */
import type { OrtBackend } from '../../functions/node/load-classifier.js';
import { loadDefaultModel } from './default-model.js';
import { explainTexts, type TextExplanation } from './explain-texts.js';
import { spearman } from './rank-correlation.js';
import { randomiseClassifierLayer, type RandomisedLayer } from './randomise-classifier.js';
import type { TextClassifier } from '../../functions/engine/tasks/text-classifier.js';

export interface Correlation {
  /** Mean over the texts where both sides rank their words (not constant). */
  mean: number;
  meanAbsolute: number;
  texts: number;
  /** Texts of 3+ words left out because one side gave every word the same attribution. */
  constant: number;
}

export const MIN_WORDS = 3;
export const RANDOMISATIONS = [
  { name: 'classifier layer', also: [] },
  { name: 'pooler and classifier layer', also: ['/bert/pooler/'] },
] as const;

export interface RandomisedRow {
  name: string;
  seed: number;
  layer: Omit<RandomisedLayer, 'bytes'>;
  correlation: Correlation;
  accuracy: number;
  /** Share of texts it predicts the trained model's label for. */
  agreement: number;
}

export interface Sanity {
  rerun: Correlation;
  trainedAccuracy: number;
  randomised: RandomisedRow[];
}

export function attributionCorrelation(trained: TextExplanation[], other: TextExplanation[]): Correlation {
  const rhos: number[] = [];
  let constant = 0;
  trained.forEach((t, i) => {
    const a = t.byLabel[t.predicted]!;
    if (a.length < MIN_WORDS) return;
    const b = other[i]!.byLabel[t.predicted]!;
    const rho = spearman(a.map((w) => w.attribution), b.map((w) => w.attribution));
    if (Number.isNaN(rho)) constant++;
    else rhos.push(rho);
  });
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  return { mean: mean(rhos), meanAbsolute: mean(rhos.map(Math.abs)), texts: rhos.length, constant };
}

/** Share of texts whose predicted label is the given one (accuracy against gold labels, or agreement). */
export function agreement(explained: TextExplanation[], labels: number[]): number {
  return explained.filter((e, i) => e.predicted === labels[i]).length / explained.length;
}

export async function sanityCheck(trained: TextClassifier, explained: TextExplanation[], texts: string[], gold: number[], options: { seeds: number[]; backend: OrtBackend }): Promise<Sanity> {
  const rerun = attributionCorrelation(explained, await explainTexts(trained, texts));
  const randomised: RandomisedRow[] = [];
  for (const { name, also } of RANDOMISATIONS) {
    for (const seed of options.seeds) {
      let layer: RandomisedLayer | undefined;
      const model = await loadDefaultModel(options.backend, (bytes) => (layer = randomiseClassifierLayer(bytes, seed, [...also])).bytes);
      const random = await explainTexts(model.engine, texts);
      const row: RandomisedRow = {
        name, seed, layer: { scopes: layer!.scopes, initializers: layer!.initializers },
        correlation: attributionCorrelation(explained, random),
        accuracy: agreement(random, gold),
        agreement: agreement(random, explained.map((e) => e.predicted)),
      };
      console.log(`${name}, seed ${seed}: mean rho ${row.correlation.mean.toFixed(3)}, accuracy ${row.accuracy.toFixed(3)}`);
      randomised.push(row);
    }
  }
  return { rerun, trainedAccuracy: agreement(explained, gold), randomised };
}
