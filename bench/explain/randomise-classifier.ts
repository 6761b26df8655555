/**
 * The sanity check's model (Adebayo et al., "Sanity checks for saliency maps"): the trained ONNX file with its final
 * classifier layer's initializers replaced by seeded random values. The layer is the scope (PyTorch module path, as
 * the exporter names nodes) of the node that computes the `logits` output, e.g. "/classifier/". Edited with the
 * onnx-proto helpers that the fine-tuning export uses. `also` names more scopes to randomise with it (the paper's
 * cascading randomisation, e.g. "/bert/pooler/"): only plain linear layers, whose initializers are weights, zero
 * points, scales and biases (a LayerNorm's epsilon would be taken for a bias).
 */
import { DataType, decodeModel, encodeModel, type Graph, type Tensor } from '../../functions/tuning/export/onnx-graph.js';
import { seededRandom, type Random } from '../../functions/tuning/trainer/prng.js';

export interface RandomisedLayer {
  bytes: Uint8Array;
  scopes: string[];
  /** What happened to each of the layer's initializers. */
  initializers: { name: string; replacedBy: string }[];
}

const LOGITS = 'logits';

function gaussian(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function floats(t: Tensor): Float32Array {
  const raw = t.rawData!;
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

/** Gaussian values with the trained tensor's root mean square: random, at the scale the layer had. */
function randomLike(t: Tensor, random: Random): string {
  const trained = floats(t);
  const rms = Math.sqrt(trained.reduce((sum, x) => sum + x * x, 0) / trained.length);
  const values = trained.map(() => gaussian(random) * rms);
  t.rawData = new Uint8Array(values.buffer);
  return `N(0, ${rms.toPrecision(3)}²)`;
}

export function randomiseClassifierLayer(onnxBytes: Uint8Array, seed: number, also: string[] = []): RandomisedLayer {
  const model = decodeModel(onnxBytes);
  const graph = model.graph as Graph;
  const last = graph.node.find((n) => n.output?.includes(LOGITS));
  if (!last?.name?.includes('/')) throw new Error(`no named node computes "${LOGITS}"`);
  const scopes = [last.name.slice(0, last.name.lastIndexOf('/') + 1), ...also];
  const initializers = new Map(graph.initializer.map((t) => [t.name!, t]));
  const random = seededRandom(seed);
  const done: RandomisedLayer['initializers'] = [];
  for (const scope of scopes) {
    let randomised = 0;
    for (const node of graph.node.filter((n) => n.name?.startsWith(scope))) {
      node.input!.forEach((input, slot) => {
        const t = initializers.get(input);
        if (!t || done.some((d) => d.name === input)) return;
        const replacedBy = replace(t, node.opType!, slot, random);
        if (!replacedBy.startsWith('kept')) randomised++;
        done.push({ name: input, replacedBy });
      });
    }
    if (randomised === 0) throw new Error(`scope ${scope} has no weights to randomise`);
  }
  return { bytes: encodeModel(model), scopes, initializers: done };
}

/** Replaces one initializer of a linear layer by what `slot` of `opType` reads it as; says with what. */
function replace(t: Tensor, opType: string, slot: number, random: Random): string {
  if (!t.rawData || t.rawData.length === 0) throw new Error(`${t.name} holds no raw data`);
  if (opType === 'MatMulInteger' && slot === 1) {
    // Quantized weights: every 8-bit value equally likely.
    t.rawData = Uint8Array.from(t.rawData, () => Math.floor(random() * 256));
    return 'uniform 8-bit values';
  }
  if (opType === 'MatMulInteger' && slot === 3) {
    // Their zero point at the middle of the range, so the random weights centre on zero.
    t.rawData = t.rawData.map(() => (t.dataType === DataType.UINT8 ? 128 : 0));
    return 'zero point at the middle of the range';
  }
  if (t.dataType === DataType.FLOAT && (opType === 'Add' || opType === 'Gemm' || opType === 'MatMul')) return randomLike(t, random);
  return 'kept (a quantization scale)';
}
