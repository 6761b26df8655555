import { describe, expect, it } from 'vitest';
import { headLogits, type ClassifierHead } from '../../functions/tuning/trainer/classifier-head.js';
import { fitStandardisation, foldStandardisation, packFeatures, standardise, type FeatureMatrix } from '../../functions/tuning/trainer/feature-matrix.js';
import { accuracy, majorityBaseline } from '../../functions/tuning/trainer/metrics.js';
import { seededRandom, type Random } from '../../functions/tuning/trainer/prng.js';
import { predictLinear, trainSoftmaxRegression, type LabelledFeatures, type RegressionSettings } from '../../functions/tuning/trainer/softmax-regression.js';
import type { TrainProgress } from '../../functions/tuning/trainer/trainer.js';

const gaussian = (random: Random): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

/**
 * Rows around one centre per class, on raw features far from standard (offset 50, scale 20 and one constant
 * feature), labels flipped with probability `noise`, classes drawn with the given weights.
 */
function blobs(rows: number, { classes, dimensions, spread, noise = 0, weights, seed }: { classes: number; dimensions: number; spread: number; noise?: number; weights?: number[]; seed: number }) {
  const random = seededRandom(seed);
  const centres = Array.from({ length: classes }, () => Array.from({ length: dimensions }, () => gaussian(random) * 2));
  const shares = weights ?? new Array<number>(classes).fill(1);
  const total = shares.reduce((a, b) => a + b, 0);
  const vectors: number[][] = [];
  const labels = new Uint16Array(rows);
  for (let i = 0; i < rows; i++) {
    let pick = random() * total;
    let k = 0;
    while (pick >= shares[k]! && k < classes - 1) pick -= shares[k++]!;
    vectors.push(centres[k]!.map((c, j) => (j === 0 ? 7 : 50 + 20 * (c + spread * gaussian(random)))));
    labels[i] = random() < noise ? Math.floor(random() * classes) : k;
  }
  return { features: packFeatures(vectors, dimensions), labels };
}

const settings = (classes: number, overrides: Partial<RegressionSettings> = {}): RegressionSettings => ({
  classes,
  epochs: 10,
  batchSize: 32,
  learningRate: 0.01,
  weightDecay: 0.01,
  seed: 7,
  ...overrides,
});

/** Splits a set into the first `n` rows and the rest, standardised on the first part. */
function trainAndTest(data: LabelledFeatures, n: number): { train: LabelledFeatures; test: LabelledFeatures; raw: FeatureMatrix } {
  const { dimensions, values } = data.features;
  const trainRaw = { rows: n, dimensions, values: values.slice(0, n * dimensions) };
  const testRaw = { rows: data.features.rows - n, dimensions, values: values.slice(n * dimensions) };
  const standardisation = fitStandardisation(trainRaw);
  return {
    train: { features: standardise(trainRaw, standardisation), labels: data.labels.slice(0, n) },
    test: { features: standardise(testRaw, standardisation), labels: data.labels.slice(n) },
    raw: testRaw,
  };
}

const predictions = (model: Parameters<typeof predictLinear>[0], data: LabelledFeatures): number[] =>
  Array.from({ length: data.features.rows }, (_, i) => predictLinear(model, data.features.values, i * data.features.dimensions));

describe('trainSoftmaxRegression', () => {
  it('learns a separable 3-class problem on raw features far from standard scale', async () => {
    const { train, test } = trainAndTest(blobs(1_200, { classes: 3, dimensions: 12, spread: 0.3, seed: 1 }), 1_000);
    const out = await trainSoftmaxRegression(train, settings(3));
    expect(accuracy(predictions(out.model, test), test.labels)).toBeGreaterThanOrEqual(0.99);
    expect(out.trainLoss).toBeLessThan(0.1);
    expect(out.steps).toBe(10 * Math.ceil(1_000 / 32));
  });

  it('beats the majority baseline clearly on a noisy, imbalanced problem', async () => {
    const data = blobs(3_000, { classes: 2, dimensions: 20, spread: 1.6, noise: 0.2, weights: [0.65, 0.35], seed: 2 });
    const { train, test } = trainAndTest(data, 2_000);
    const out = await trainSoftmaxRegression(train, settings(2, { epochs: 5 }), { holdout: test });
    const majority = majorityBaseline(train.labels, test.labels, ['a', 'b']).accuracy;
    const measured = accuracy(predictions(out.model, test), test.labels);
    expect(majority).toBeGreaterThan(0.55);
    expect(measured).toBeGreaterThan(majority + 0.1);
    expect(out.holdoutAccuracy).toBe(measured);
  });

  it('gives a bit-identical model for the same inputs and seed, another for another seed', async () => {
    const { train } = trainAndTest(blobs(500, { classes: 4, dimensions: 8, spread: 1, seed: 3 }), 500);
    const [a, b, c] = await Promise.all([7, 7, 8].map((seed) => trainSoftmaxRegression(train, settings(4, { epochs: 3, seed }))));
    expect(Buffer.from(a!.model.weights.buffer).equals(Buffer.from(b!.model.weights.buffer))).toBe(true);
    expect(Buffer.from(a!.model.bias.buffer).equals(Buffer.from(b!.model.bias.buffer))).toBe(true);
    expect(Buffer.from(a!.model.weights.buffer).equals(Buffer.from(c!.model.weights.buffer))).toBe(false);
  });

  it('reports every step and the hold-out accuracy with the last step of each epoch', async () => {
    const { train, test } = trainAndTest(blobs(130, { classes: 2, dimensions: 4, spread: 0.5, seed: 4 }), 100);
    const seen: TrainProgress[] = [];
    await trainSoftmaxRegression(train, settings(2, { epochs: 3, batchSize: 40 }), { holdout: test, onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen.every((p) => p.totalSteps === 9 && p.phase === 'training' && Number.isFinite(p.trainLoss))).toBe(true);
    expect(seen.map((p) => p.epoch)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3]);
    expect(seen.filter((p) => p.holdoutAccuracy !== undefined).map((p) => p.step)).toEqual([3, 6, 9]);
  });

  it('stops with the signal\'s reason when cancelled from a progress callback', async () => {
    const { train } = trainAndTest(blobs(400, { classes: 2, dimensions: 4, spread: 0.5, seed: 5 }), 400);
    const controller = new AbortController();
    const reason = new Error('cancelled by the user');
    let steps = 0;
    const run = trainSoftmaxRegression(train, settings(2), {
      signal: controller.signal,
      onProgress: (p) => {
        steps = p.step;
        if (p.step === 3) controller.abort(reason);
      },
    });
    await expect(run).rejects.toBe(reason);
    expect(steps).toBe(3);
  });

  it('lets a timer abort a long run: it yields to other work while it trains', async () => {
    const { train } = trainAndTest(blobs(5_000, { classes: 10, dimensions: 64, spread: 1, seed: 6 }), 5_000);
    const controller = new AbortController();
    let lastStep = 0;
    setTimeout(() => controller.abort(new Error('shutdown')), 50);
    const started = performance.now();
    const run = trainSoftmaxRegression(train, settings(10, { epochs: 50, batchSize: 8 }), { signal: controller.signal, onProgress: (p) => (lastStep = p.step) });
    await expect(run).rejects.toThrow('shutdown');
    expect(lastStep).toBeGreaterThan(0);
    expect(lastStep).toBeLessThan(50 * 625);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('folds the standardisation into the head: raw features through the head give the model\'s logits', async () => {
    const data = blobs(600, { classes: 3, dimensions: 10, spread: 1, seed: 8 });
    const raw = data.features;
    const standardisation = fitStandardisation(raw);
    const out = await trainSoftmaxRegression({ features: standardise(raw, standardisation), labels: data.labels }, settings(3, { epochs: 4 }));
    const head: ClassifierHead = { base: 'b@1', labels: ['a', 'b', 'c'], dimensions: 10, ...foldStandardisation(out.model.weights, out.model.bias, standardisation) };
    const standardised = standardise(raw, standardisation);
    let largestGap = 0;
    for (let i = 0; i < raw.rows; i++) {
      const fromHead = headLogits(head, raw.values.subarray(i * 10, i * 10 + 10));
      for (let k = 0; k < 3; k++) {
        let expected = out.model.bias[k]!;
        for (let j = 0; j < 10; j++) expected += out.model.weights[k * 10 + j]! * standardised.values[i * 10 + j]!;
        largestGap = Math.max(largestGap, Math.abs(fromHead[k]! - expected) / Math.max(1, Math.abs(expected)));
      }
      expect(argmax(headLogits(head, raw.values.subarray(i * 10, i * 10 + 10)))).toBe(predictLinear(out.model, standardised.values, i * 10));
    }
    expect(largestGap).toBeLessThan(1e-4);
  });
});

const argmax = (values: ArrayLike<number>): number => Array.from(values).reduce((best, v, k, all) => (v > all[best]! ? k : best), 0);
