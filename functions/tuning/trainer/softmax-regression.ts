/**
 * Multinomial logistic regression trained with Adam in seeded mini-batches, with decoupled (AdamW) weight decay and
 * a learning rate that falls linearly to zero, so the last steps settle instead of jittering. Parameters and
 * moments are float64 and every sum runs in a fixed order: the same inputs and seed give a bit-identical model.
 */
import type { TrainProgress } from './trainer.js';
import type { FeatureMatrix } from './feature-matrix.js';
import { seededRandom, shuffleInPlace } from './prng.js';

export interface LabelledFeatures {
  features: FeatureMatrix;
  /** One label index per row. */
  labels: Uint16Array;
}

export interface RegressionSettings {
  classes: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** AdamW's decoupled decay: each step shrinks the weights (not the biases) by learningRate x weightDecay. */
  weightDecay: number;
  seed: number;
}

export interface RegressionOptions {
  /** Checked before every step; training stops by throwing the signal's reason. */
  signal?: AbortSignal;
  /** Measured after each epoch and reported with its last step. */
  holdout?: LabelledFeatures;
  onProgress?: (progress: TrainProgress) => void;
  /** Milliseconds; how long training may run before letting other work (an abort, a request) in. */
  clock?: () => number;
  yieldEveryMs?: number;
}

export interface LinearModel {
  classes: number;
  dimensions: number;
  /** classes x dimensions, row-major. */
  weights: Float64Array;
  bias: Float64Array;
}

export interface RegressionOutput {
  model: LinearModel;
  steps: number;
  /** Mean cross-entropy of the last epoch's batches. */
  trainLoss: number;
  /** After the last epoch; null without a hold-out. */
  holdoutAccuracy: number | null;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

export async function trainSoftmaxRegression(
  train: LabelledFeatures,
  settings: RegressionSettings,
  options: RegressionOptions = {},
): Promise<RegressionOutput> {
  const { rows, dimensions } = train.features;
  const { classes, epochs, batchSize, learningRate, weightDecay } = settings;
  if (rows === 0) throw new RangeError('no training rows');
  if (train.labels.length !== rows) throw new RangeError(`${train.labels.length} labels for ${rows} rows`);
  const model: LinearModel = { classes, dimensions, weights: new Float64Array(classes * dimensions), bias: new Float64Array(classes) };
  const adam = { mw: new Float64Array(classes * dimensions), vw: new Float64Array(classes * dimensions), mb: new Float64Array(classes), vb: new Float64Array(classes) };
  const gradWeights = new Float64Array(classes * dimensions);
  const gradBias = new Float64Array(classes);
  const probabilities = new Float64Array(classes);

  const values = train.features.values;
  const random = seededRandom(settings.seed);
  const order = Uint32Array.from({ length: rows }, (_, i) => i);
  const stepsPerEpoch = Math.ceil(rows / batchSize);
  const totalSteps = epochs * stepsPerEpoch;
  const clock = options.clock ?? (() => Date.now());
  const yieldEveryMs = options.yieldEveryMs ?? 20;
  let lastYield = clock();
  let step = 0;
  let epochLoss = 0;
  let holdoutAccuracy: number | null = null;

  for (let epoch = 1; epoch <= epochs; epoch++) {
    shuffleInPlace(order, random);
    epochLoss = 0;
    for (let start = 0; start < rows; start += batchSize) {
      options.signal?.throwIfAborted();
      const end = Math.min(start + batchSize, rows);
      gradWeights.fill(0);
      gradBias.fill(0);
      let batchLoss = 0;
      for (let b = start; b < end; b++) {
        const row = order[b]!;
        const label = train.labels[row]!;
        const offset = row * dimensions;
        batchLoss += softmaxInto(probabilities, model, values, offset, label);
        probabilities[label]! -= 1;
        for (let k = 0; k < classes; k++) {
          const g = probabilities[k]!;
          gradBias[k]! += g;
          const rowOffset = k * dimensions;
          for (let j = 0; j < dimensions; j++) gradWeights[rowOffset + j]! += g * values[offset + j]!;
        }
      }
      step++;
      const size = end - start;
      const rate = learningRate * (1 - (step - 1) / totalSteps);
      adamStep(model.weights, gradWeights, adam.mw, adam.vw, step, rate, size, weightDecay);
      adamStep(model.bias, gradBias, adam.mb, adam.vb, step, rate, size, 0);
      epochLoss += batchLoss / size;

      const epochDone = end === rows;
      if (epochDone && options.holdout) holdoutAccuracy = linearAccuracy(model, options.holdout);
      const stepInEpoch = step - (epoch - 1) * stepsPerEpoch;
      options.onProgress?.({
        phase: 'training',
        epoch,
        step,
        totalSteps,
        trainLoss: epochLoss / stepInEpoch,
        ...(epochDone && holdoutAccuracy !== null ? { holdoutAccuracy } : {}),
      });
      if (clock() - lastYield >= yieldEveryMs) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = clock();
      }
    }
  }
  options.signal?.throwIfAborted();
  return { model, steps: step, trainLoss: epochLoss / stepsPerEpoch, holdoutAccuracy };
}

/** Writes softmax(W x + b) into `out` and returns the row's cross-entropy, -log p(label), computed stably. */
function softmaxInto(out: Float64Array, model: LinearModel, values: Float32Array, offset: number, label: number): number {
  const { classes, dimensions, weights, bias } = model;
  let max = -Infinity;
  for (let k = 0; k < classes; k++) {
    let sum = bias[k]!;
    const rowOffset = k * dimensions;
    for (let j = 0; j < dimensions; j++) sum += weights[rowOffset + j]! * values[offset + j]!;
    out[k] = sum;
    if (sum > max) max = sum;
  }
  const labelLogit = out[label]!;
  let total = 0;
  for (let k = 0; k < classes; k++) {
    const e = Math.exp(out[k]! - max);
    out[k] = e;
    total += e;
  }
  for (let k = 0; k < classes; k++) out[k]! /= total;
  return max + Math.log(total) - labelLogit;
}

function adamStep(
  params: Float64Array,
  gradSum: Float64Array,
  m: Float64Array,
  v: Float64Array,
  step: number,
  rate: number,
  batch: number,
  weightDecay: number,
): void {
  const correction1 = 1 - BETA1 ** step;
  const correction2 = 1 - BETA2 ** step;
  for (let i = 0; i < params.length; i++) {
    const g = gradSum[i]! / batch;
    m[i] = BETA1 * m[i]! + (1 - BETA1) * g;
    v[i] = BETA2 * v[i]! + (1 - BETA2) * g * g;
    params[i]! -= rate * ((m[i]! / correction1) / (Math.sqrt(v[i]! / correction2) + EPSILON) + weightDecay * params[i]!);
  }
}

/** The index of the largest logit, the first of a tie. */
export function predictLinear(model: LinearModel, values: ArrayLike<number>, offset: number): number {
  let best = 0;
  let bestLogit = -Infinity;
  for (let k = 0; k < model.classes; k++) {
    let sum = model.bias[k]!;
    const rowOffset = k * model.dimensions;
    for (let j = 0; j < model.dimensions; j++) sum += model.weights[rowOffset + j]! * values[offset + j]!;
    if (sum > bestLogit) {
      bestLogit = sum;
      best = k;
    }
  }
  return best;
}

function linearAccuracy(model: LinearModel, data: LabelledFeatures): number {
  if (data.features.rows === 0) return 0;
  let right = 0;
  for (let i = 0; i < data.features.rows; i++) if (predictLinear(model, data.features.values, i * data.features.dimensions) === data.labels[i]) right++;
  return right / data.features.rows;
}
