/** Symmetric int8 quantization of weight matrices: per output column for MatMul, per row for embedding tables. */
export interface QuantizedMatrix {
  values: Int8Array;
  scales: Float32Array;
}

/** The largest magnitude a quantized value may take: 127 uses all of int8; 64 is onnxruntime's reduce_range (7 bits). */
const scaleFor = (maxAbs: number, qmax: number): number => (maxAbs > 0 ? maxAbs / qmax : 1);
const quantize = (value: number, scale: number, qmax: number): number => Math.max(-qmax, Math.min(qmax, Math.round(value / scale)));

/** W is row-major [rows, cols]; one scale per column (the N axis of a [K, N] MatMul weight); values in [-qmax, qmax]. */
export function quantizePerColumn(w: Float32Array, rows: number, cols: number, qmax = 127): QuantizedMatrix {
  const maxAbs = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) maxAbs[c] = Math.max(maxAbs[c]!, Math.abs(w[r * cols + c]!));
  }
  const scales = maxAbs.map((m) => scaleFor(m, qmax));
  const values = new Int8Array(w.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) values[r * cols + c] = quantize(w[r * cols + c]!, scales[c]!, qmax);
  }
  return { values, scales };
}

/** One scale per row (an embedding vector per token id), values in [-127, 127]. */
export function quantizePerRow(w: Float32Array, rows: number, cols: number): QuantizedMatrix {
  const scales = new Float32Array(rows);
  const values = new Int8Array(w.length);
  for (let r = 0; r < rows; r++) {
    let maxAbs = 0;
    for (let c = 0; c < cols; c++) maxAbs = Math.max(maxAbs, Math.abs(w[r * cols + c]!));
    scales[r] = scaleFor(maxAbs, 127);
    for (let c = 0; c < cols; c++) values[r * cols + c] = quantize(w[r * cols + c]!, scales[r]!, 127);
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
