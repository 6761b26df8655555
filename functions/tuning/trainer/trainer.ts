/**
 * The trainer's contract: labelled texts and a base encoder in, a classifier head and its measured result out.
 * train-classifier.ts implements it over any TextEmbedder (inline: the Worker, tests); the Node server runs the same
 * code in a worker thread (node/training-thread.ts) so that serving never stalls behind a job.
 */
import type { Hyperparameters, TrainingResult } from '../tuning-types.js';
import type { ClassifierHead } from './classifier-head.js';

export interface LabelledText {
  text: string;
  label: string;
}

export interface TrainInput {
  /** The base encoder, id@version. */
  base: string;
  rows: LabelledText[];
  /** null: a seeded, stratified hold-out split of `rows`. */
  validation: LabelledText[] | null;
  /** Every label, in the order the head's logits follow (first seen in the training file). */
  labels: string[];
  hyperparameters: Hyperparameters;
  seed: number;
}

export interface TrainProgress {
  epoch: number;
  step: number;
  totalSteps: number;
  /** Mean cross-entropy of the epoch's steps so far; NaN in the 'features' phase (nothing trained yet). */
  trainLoss: number;
  /** Measured at the end of each epoch. */
  holdoutAccuracy?: number;
  /** 'features': the encoder is reading the texts (step = texts read); 'training': the head is training. */
  phase: 'features' | 'training';
}

export interface TrainOptions {
  signal?: AbortSignal;
  onProgress?: (progress: TrainProgress) => void;
}

export interface TrainOutput {
  head: ClassifierHead;
  result: TrainingResult;
}

export interface Trainer {
  train(input: TrainInput, options?: TrainOptions): Promise<TrainOutput>;
}
