/**
 * Masked mean pooling of an encoder's last_hidden_state, as transformers.js' `pooling: 'mean'`: each row's vector
 * is the mean of its hidden states over the positions its attention mask keeps. Rows are padded on the right, so
 * the mask of a row of `length` tokens keeps its first `length` positions. Sums run in float64 so that a 512-token
 * window rounds once, not at every position.
 */
export function meanPool(hidden: Float32Array, width: number, dimensions: number, lengths: readonly number[]): Float32Array[] {
  if (hidden.length !== lengths.length * width * dimensions) {
    throw new Error(`last_hidden_state holds ${hidden.length} numbers, not ${lengths.length} x ${width} x ${dimensions}`);
  }
  return lengths.map((length, row) => {
    const sums = new Float64Array(dimensions);
    for (let t = 0; t < length; t++) {
      const offset = (row * width + t) * dimensions;
      for (let d = 0; d < dimensions; d++) sums[d]! += hidden[offset + d]!;
    }
    return Float32Array.from(sums, (sum) => sum / length);
  });
}

/**
 * One vector for a text read in several windows: their pooled vectors averaged, each weighted by its token count,
 * which equals the mean over every token the windows saw (the [CLS] and [SEP] of each window included).
 */
export function weightedMean(vectors: readonly Float32Array[], weights: readonly number[]): Float32Array {
  if (vectors.length === 1) return vectors[0]!;
  const dimensions = vectors[0]!.length;
  const sums = new Float64Array(dimensions);
  let total = 0;
  vectors.forEach((vector, i) => {
    const weight = weights[i]!;
    total += weight;
    for (let d = 0; d < dimensions; d++) sums[d]! += weight * vector[d]!;
  });
  return Float32Array.from(sums, (sum) => sum / total);
}
