/** Symmetric int8 quantization of weight matrices: per output column for MatMul, per row for embedding tables. */
export interface QuantizedMatrix {
  values: Int8Array;
  scales: Float32Array;
}

const scaleFor = (maxAbs: number): number => (maxAbs > 0 ? maxAbs / 127 : 1);
const toInt8 = (value: number, scale: number): number => Math.max(-127, Math.min(127, Math.round(value / scale)));

/** W is row-major [rows, cols]; one scale per column (the N axis of a [K, N] MatMul weight). */
export function quantizePerColumn(w: Float32Array, rows: number, cols: number): QuantizedMatrix {
  const maxAbs = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) maxAbs[c] = Math.max(maxAbs[c]!, Math.abs(w[r * cols + c]!));
  }
  const scales = maxAbs.map(scaleFor);
  const values = new Int8Array(w.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) values[r * cols + c] = toInt8(w[r * cols + c]!, scales[c]!);
  }
  return { values, scales };
}

/** One scale per row (an embedding vector per token id). */
export function quantizePerRow(w: Float32Array, rows: number, cols: number): QuantizedMatrix {
  const scales = new Float32Array(rows);
  const values = new Int8Array(w.length);
  for (let r = 0; r < rows; r++) {
    let maxAbs = 0;
    for (let c = 0; c < cols; c++) maxAbs = Math.max(maxAbs, Math.abs(w[r * cols + c]!));
    scales[r] = scaleFor(maxAbs);
    for (let c = 0; c < cols; c++) values[r * cols + c] = toInt8(w[r * cols + c]!, scales[r]!);
  }
  return { values, scales };
}

export function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  }
  return out;
}
