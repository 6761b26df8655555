/**
 * How MatMul weights are stored, and so which integer kernel runs them. Activations are always uint8
 * (DynamicQuantizeLinear), so int8 weights run onnxruntime's u8s8 kernels and uint8 weights its u8u8 kernels.
 *
 * On x86 with AVX2 but without AVX-512 VNNI / AVX-VNNI, onnxruntime-node's u8s8 kernel multiplies with VPMADDUBSW,
 * which adds each pair of u8·s8 products into a saturating int16: 2·255·127 = 64,770 overflows 32,767, so native
 * results drift from the exact integer math that WASM (and VNNI, and ARM) compute. onnxruntime's documentation
 * names two remedies, both here:
 * - 'int8-reduce-range': int8 weights in [-64, 64] (7 bits): 2·255·64 = 32,640 fits int16, so no pair saturates;
 *   costs one bit of weight resolution.
 * - 'uint8': weights in [1, 255] around zero point 128 (8 bits, as 'int8' in [-127, 127] shifted by 128): the
 *   u8u8 kernels widen to int16 before multiplying, exact on every CPU.
 * 'int8' ([-127, 127]) is exact only where no such saturation happens (VNNI, ARM, WASM).
 */
import { int8Tensor, uint8Tensor, type Tensor } from './onnx-model.js';
import { quantizePerColumn } from './int8-weights.js';

export const weightFormats = ['uint8', 'int8-reduce-range', 'int8'] as const;
export type WeightFormat = (typeof weightFormats)[number];

export function isWeightFormat(value: string): value is WeightFormat {
  return (weightFormats as readonly string[]).includes(value);
}

export interface WeightTensors {
  weight: Tensor;
  scale: Float32Array;
  zeroPoint: Tensor;
}

/** Quantizes a [K, N] MatMul weight per column into the initializers MatMulInteger takes as its B and b_zero_point. */
export function weightTensors(format: WeightFormat, w: Float32Array, k: number, n: number, names: { weight: string; zeroPoint: string }): WeightTensors {
  const { values, scales } = quantizePerColumn(w, k, n, format === 'int8-reduce-range' ? 64 : 127);
  if (format !== 'uint8') {
    return { weight: int8Tensor(names.weight, [k, n], values), scale: scales, zeroPoint: int8Tensor(names.zeroPoint, [n], new Int8Array(n)) };
  }
  const shifted = Uint8Array.from(values, (v) => v + 128);
  return { weight: uint8Tensor(names.weight, [k, n], shifted), scale: scales, zeroPoint: uint8Tensor(names.zeroPoint, [n], new Uint8Array(n).fill(128)) };
}
