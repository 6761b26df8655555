/**
 * The model-randomisation sanity check (Adebayo et al. 2018): explanations that stay the same when the model's
 * weights are random explain the input, not the model. Per text (3 words or more), the Spearman correlation of its
 * attributions toward the trained model's predicted label: trained against a rerun of the trained model, against its
 * own attributions shuffled (the correlation of unrelated rankings of these texts' words, a floor well above 0 for
 * short texts), and against the cascade of randomised models (randomise-layers.ts), several seeds each.
 */
import type { OrtBackend } from '../../functions/node/load-classifier.js';
import { seededRandom } from '../../functions/tuning/trainer/prng.js';
import { loadDefaultModel, readDefaultOnnx } from './default-model.js';
import { explainTexts, type TextExplanation } from './explain-texts.js';
import { spearman } from './rank-correlation.js';
import { cascade, KEPT, randomiseScopes, type RandomisedModel, type Role } from './randomise-layers.js';
import { randomOrder } from './word-edits.js';
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

export interface CascadeStep {
  name: string;
  scopes: string[];
  /** 8-bit weight matrices and tables randomised, of the model's. */
  matrices: { randomised: number; total: number };
  /** Initializers per role, and whether that role was randomised. */
  roles: { role: Role; count: number; randomised: boolean }[];
  /** Smallest and largest root mean square of the trained 8-bit matrices around their zero points. */
  trainedRms: { min: number; max: number };
}

export interface RandomisedRow {
  step: string;
  seed: number;
  correlation: Correlation;
  accuracy: number;
  /** Share of texts it predicts the trained model's label for. */
  agreement: number;
}

export interface Sanity {
  rerun: Correlation;
  shuffled: { seed: number; correlation: Correlation }[];
  trainedAccuracy: number;
  steps: CascadeStep[];
  randomised: RandomisedRow[];
}

type Attributions = (t: TextExplanation, i: number) => number[];

function correlate(trained: TextExplanation[], other: Attributions): Correlation {
  const rhos: number[] = [];
  let constant = 0;
  trained.forEach((t, i) => {
    const a = t.byLabel[t.predicted]!;
    if (a.length < MIN_WORDS) return;
    const rho = spearman(a.map((w) => w.attribution), other(t, i));
    if (Number.isNaN(rho)) constant++;
    else rhos.push(rho);
  });
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  return { mean: mean(rhos), meanAbsolute: mean(rhos.map(Math.abs)), texts: rhos.length, constant };
}

/** Both toward the trained model's predicted label, whatever the other model predicts. */
export function attributionCorrelation(trained: TextExplanation[], other: TextExplanation[]): Correlation {
  return correlate(trained, (t, i) => other[i]!.byLabel[t.predicted]!.map((w) => w.attribution));
}

/** The trained attributions against themselves in a seeded random order: what unrelated rankings correlate. */
export function shuffledCorrelation(trained: TextExplanation[], seed: number): Correlation {
  const random = seededRandom(seed);
  return correlate(trained, (t) => {
    const a = t.byLabel[t.predicted]!.map((w) => w.attribution);
    return randomOrder(a.length, random).map((j) => a[j]!);
  });
}

/** Share of texts whose predicted label is the given one (accuracy against gold labels, or agreement). */
export function agreement(explained: TextExplanation[], labels: number[]): number {
  return explained.filter((e, i) => e.predicted === labels[i]).length / explained.length;
}

function describe(name: string, model: RandomisedModel): CascadeStep {
  const roles = [...new Set(model.initializers.map((i) => i.role))].map((role) => ({
    role, count: model.initializers.filter((i) => i.role === role).length, randomised: !KEPT.includes(role),
  }));
  const rms = model.initializers.flatMap((i) => (i.trainedRms === undefined ? [] : [i.trainedRms]));
  return { name, scopes: model.scopes, matrices: model.matrices, roles, trainedRms: { min: Math.min(...rms), max: Math.max(...rms) } };
}

export async function sanityCheck(trained: TextClassifier, explained: TextExplanation[], texts: string[], gold: number[], options: { seeds: number[]; backend: OrtBackend }): Promise<Sanity> {
  const rerun = attributionCorrelation(explained, await explainTexts(trained, texts));
  const shuffled = options.seeds.map((seed) => ({ seed, correlation: shuffledCorrelation(explained, seed) }));
  const steps: CascadeStep[] = [];
  const randomised: RandomisedRow[] = [];
  for (const { name, scopes } of cascade(await readDefaultOnnx())) {
    for (const seed of options.seeds) {
      let edited: RandomisedModel | undefined;
      const model = await loadDefaultModel(options.backend, (bytes) => (edited = randomiseScopes(bytes, seed, scopes)).bytes);
      if (seed === options.seeds[0]) steps.push(describe(name, edited!));
      const random = await explainTexts(model.engine, texts);
      const row: RandomisedRow = {
        step: name, seed,
        correlation: attributionCorrelation(explained, random),
        accuracy: agreement(random, gold),
        agreement: agreement(random, explained.map((e) => e.predicted)),
      };
      console.log(`${name}, seed ${seed}: mean rho ${row.correlation.mean.toFixed(3)}, mean abs rho ${row.correlation.meanAbsolute.toFixed(3)}, accuracy ${row.accuracy.toFixed(3)}, agreement ${row.agreement.toFixed(3)}, constant ${row.correlation.constant}`);
      randomised.push(row);
    }
  }
  return { rerun, shuffled, trainedAccuracy: agreement(explained, gold), steps, randomised };
}
