/**
 * The bag-of-words anchor, what a user gets without us: unigram + bigram presence (binary) over the training rows'
 * vocabulary, and a logistic regression trained by the trainer's own softmax-regression code (AdamW, learning rate
 * falling linearly to 0). Its L2 strength (the regression's decoupled weight decay) is chosen on a seeded 20 % split
 * of the training rows, then the model is trained again on all of them with that strength. The schedule is its own,
 * not a job's "auto": the regression is dense (a fit costs rows x terms x epochs), and auto's 20 epochs at 1,600 rows
 * would double every fit of the grid; on SST-2's split, learning rate 0.01 (0.695 at L2 1) did as well as 0.1 (0.680).
 */
import type { FeatureMatrix } from '../../functions/tuning/trainer/feature-matrix.js';
import { holdoutSplit } from '../../functions/tuning/trainer/holdout-split.js';
import { predictLinear, trainSoftmaxRegression, type LinearModel } from '../../functions/tuning/trainer/softmax-regression.js';
import type { LabelledText } from '../../functions/tuning/trainer/trainer.js';

/** Terms seen in fewer training rows than this are dropped: one row's typo generalises to nothing. */
const MIN_DOCUMENT_FREQUENCY = 2;
/** The most frequent terms kept (a dense matrix of rows x terms is what the regression reads). */
const MAX_FEATURES = 10_000;
export const WEIGHT_DECAY_GRID = [0.1, 0.3, 1, 3, 10] as const;
const SELECTION_SHARE = 0.2;
const SCHEDULE = { epochs: 10, batchSize: 32, learningRate: 0.01 } as const;

export function terms(text: string): string[] {
  const words = text.toLowerCase().match(/[a-z0-9]+(?:'[a-z]+)?/g) ?? [];
  const bigrams = words.slice(1).map((word, i) => `${words[i]} ${word}`);
  return [...words, ...bigrams];
}

export class Vocabulary {
  private constructor(readonly index: Map<string, number>) {}

  /** Terms by document frequency (most first, ties alphabetical, so the vocabulary depends only on the rows). */
  static fit(texts: string[]): Vocabulary {
    const frequency = new Map<string, number>();
    for (const text of texts) for (const term of new Set(terms(text))) frequency.set(term, (frequency.get(term) ?? 0) + 1);
    const kept = [...frequency].filter(([, df]) => df >= MIN_DOCUMENT_FREQUENCY)
      .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
      .slice(0, MAX_FEATURES);
    return new Vocabulary(new Map(kept.map(([term], i) => [term, i])));
  }

  get size(): number {
    return this.index.size;
  }

  matrix(texts: string[]): FeatureMatrix {
    const dimensions = this.size;
    const values = new Float32Array(texts.length * dimensions);
    texts.forEach((text, i) => {
      for (const term of terms(text)) {
        const j = this.index.get(term);
        if (j !== undefined) values[i * dimensions + j] = 1;
      }
    });
    return { rows: texts.length, dimensions, values };
  }
}

export interface BagOfWordsModel {
  vocabulary: Vocabulary;
  model: LinearModel;
  labels: string[];
  weightDecay: number;
  /** Accuracy on the selection split, per weight decay of the grid. */
  selection: { weightDecay: number; accuracy: number }[];
}

async function fit(rows: LabelledText[], vocabulary: Vocabulary, labels: string[], weightDecay: number, seed: number): Promise<LinearModel> {
  const labelIndex = new Map(labels.map((label, k) => [label, k]));
  const { model } = await trainSoftmaxRegression(
    { features: vocabulary.matrix(rows.map((row) => row.text)), labels: Uint16Array.from(rows, (row) => labelIndex.get(row.label)!) },
    { classes: labels.length, ...SCHEDULE, weightDecay, seed },
  );
  return model;
}

export function predictBagOfWords(model: Pick<BagOfWordsModel, 'vocabulary' | 'model' | 'labels'>, texts: string[]): string[] {
  const features = model.vocabulary.matrix(texts);
  return texts.map((_, i) => model.labels[predictLinear(model.model, features.values, i * features.dimensions)]!);
}

export function accuracyOf(predicted: string[], rows: LabelledText[]): number {
  return predicted.filter((label, i) => label === rows[i]!.label).length / rows.length;
}

export async function trainBagOfWords(train: LabelledText[], seed: number): Promise<BagOfWordsModel> {
  const labels = [...new Set(train.map((row) => row.label))];
  const split = holdoutSplit(train, seed, SELECTION_SHARE);
  const splitVocabulary = Vocabulary.fit(split.train.map((row) => row.text));
  const selection: BagOfWordsModel['selection'] = [];
  for (const weightDecay of WEIGHT_DECAY_GRID) {
    const model = await fit(split.train, splitVocabulary, labels, weightDecay, seed);
    const accuracy = accuracyOf(predictBagOfWords({ vocabulary: splitVocabulary, model, labels }, split.holdout.map((row) => row.text)), split.holdout);
    selection.push({ weightDecay, accuracy });
  }
  // The best on the split; of a tie, the stronger regularisation (the later in the grid).
  const best = selection.reduce((a, b) => (b.accuracy >= a.accuracy ? b : a));
  const vocabulary = Vocabulary.fit(train.map((row) => row.text));
  return { vocabulary, model: await fit(train, vocabulary, labels, best.weightDecay, seed), labels, weightDecay: best.weightDecay, selection };
}

/** The majority anchor: the most frequent training label (first seen of a tie), always. */
export function majorityLabel(train: LabelledText[]): string {
  const counts = new Map<string, number>();
  for (const row of train) counts.set(row.label, (counts.get(row.label) ?? 0) + 1);
  return [...counts].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
}
