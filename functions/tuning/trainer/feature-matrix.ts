/**
 * Feature vectors packed row-major in one Float32Array, and the standardisation the regression trains on: each
 * feature centred on the training rows' mean and divided by their standard deviation, so one learning rate suits
 * every encoder whatever the scale of its features.
 */
export interface FeatureMatrix {
  rows: number;
  dimensions: number;
  /** rows x dimensions. */
  values: Float32Array;
}

export function packFeatures(vectors: ArrayLike<number>[], dimensions: number): FeatureMatrix {
  const values = new Float32Array(vectors.length * dimensions);
  vectors.forEach((vector, i) => {
    if (vector.length !== dimensions) throw new RangeError(`vector ${i} has ${vector.length} numbers, not ${dimensions}`);
    values.set(vector, i * dimensions);
  });
  return { rows: vectors.length, dimensions, values };
}

export interface Standardisation {
  mean: Float64Array;
  /** 1 / standard deviation; 1 for a feature that does not vary (it stays centred at 0). */
  inverseStd: Float64Array;
}

/** A feature this flat carries no signal, only rounding noise that standardising would blow up. */
const MIN_STD = 1e-6;

export function fitStandardisation(matrix: FeatureMatrix): Standardisation {
  const { rows, dimensions, values } = matrix;
  const mean = new Float64Array(dimensions);
  const inverseStd = new Float64Array(dimensions);
  for (let i = 0; i < rows; i++) for (let j = 0; j < dimensions; j++) mean[j]! += values[i * dimensions + j]!;
  for (let j = 0; j < dimensions; j++) mean[j]! /= Math.max(rows, 1);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < dimensions; j++) {
      const centred = values[i * dimensions + j]! - mean[j]!;
      inverseStd[j]! += centred * centred;
    }
  }
  for (let j = 0; j < dimensions; j++) {
    const std = Math.sqrt(inverseStd[j]! / Math.max(rows, 1));
    inverseStd[j] = std < MIN_STD ? 1 : 1 / std;
  }
  return { mean, inverseStd };
}

export function standardise(matrix: FeatureMatrix, { mean, inverseStd }: Standardisation): FeatureMatrix {
  const { rows, dimensions, values } = matrix;
  const out = new Float32Array(values.length);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < dimensions; j++) out[i * dimensions + j] = (values[i * dimensions + j]! - mean[j]!) * inverseStd[j]!;
  }
  return { rows, dimensions, values: out };
}

/**
 * A linear layer trained on standardised features, rewritten to read raw ones: w · ((x - mean) * s) + b equals
 * (w * s) · x + (b - (w * s) · mean).
 */
export function foldStandardisation(
  weights: Float64Array,
  bias: Float64Array,
  { mean, inverseStd }: Standardisation,
): { weights: Float32Array; bias: Float32Array } {
  const dimensions = mean.length;
  const folded = new Float32Array(weights.length);
  const foldedBias = new Float32Array(bias.length);
  for (let k = 0; k < bias.length; k++) {
    let shift = 0;
    for (let j = 0; j < dimensions; j++) {
      const w = weights[k * dimensions + j]! * inverseStd[j]!;
      folded[k * dimensions + j] = w;
      shift += w * mean[j]!;
    }
    foldedBias[k] = bias[k]! - shift;
  }
  return { weights: folded, bias: foldedBias };
}
