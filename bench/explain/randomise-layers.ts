/**
 * The sanity check's models (Adebayo et al., "Sanity checks for saliency maps"): the trained ONNX file with the
 * initializers of some scopes (PyTorch module paths, as the exporter names nodes: "/classifier/", "/bert/layers.3/")
 * replaced by seeded random values. Each initializer is replaced by what it is to the node reading it:
 * - a quantized weight matrix (MatMulInteger's B) or the int8 word-embedding table (the quantizer's GatherInt8):
 *   every 8-bit value equally likely; a weight's zero point moved to the middle of the range, so the random weights
 *   centre on zero (int8 tables are symmetric, without one); quantization scales kept;
 * - an fp32 bias (an Add in a scope that has a MatMulInteger) or embedding table (a Gather's data): N(0, σ²) with the
 *   trained tensor's σ;
 * - a LayerNorm's γ and β (Mul and Add in a scope without a MatMulInteger): kept.
 * An initializer that fits none of these throws, so no tensor is left trained without saying so. One random stream
 * per seed, drawn scope by scope in the order given: the same seed with more scopes after keeps the first scopes'
 * values (the paper's cascade, each step adding a layer to the one before).
 */
import { DataType, decodeModel, encodeModel, type Graph, type Node, type Tensor } from '../../functions/tuning/export/onnx-graph.js';
import { seededRandom, type Random } from '../../functions/tuning/trainer/prng.js';

export type Role = 'weights' | 'zero point' | 'scale' | 'bias' | 'embedding table' | 'layer norm';
/** What each role's tensors get; the kept roles keep their trained values. */
export const KEPT: readonly Role[] = ['scale', 'layer norm'];

export interface RandomisedInitializer {
  name: string;
  role: Role;
  replacedBy: string;
  /** Weights only: the trained 8-bit values' root mean square around their zero point (0 for a symmetric int8 table). */
  trainedRms?: number;
}

/** Root mean square of every 8-bit value equally likely around the middle of the range (128 or 0): variance plus ½². */
export const UNIFORM_RMS = Math.sqrt((256 ** 2 - 1) / 12 + 0.25);

export interface RandomisedModel {
  bytes: Uint8Array;
  scopes: string[];
  initializers: RandomisedInitializer[];
  /** 8-bit weight matrices and tables randomised, of the model's. */
  matrices: { randomised: number; total: number };
}

const LOGITS = 'logits';
const scopeOf = (name: string) => name.slice(0, name.lastIndexOf('/') + 1);
const isMatrix = (node: Node, slot: number) => (node.opType === 'MatMulInteger' && slot === 1) || (node.opType === 'Gather' && slot === 0 && node.name!.includes('_GatherInt8'));

/** The scope of the node that computes the logits, e.g. "/classifier/". */
export function classifierScope(graph: Graph): string {
  const last = graph.node.find((n) => n.output?.includes(LOGITS));
  if (!last?.name?.includes('/')) throw new Error(`no named node computes "${LOGITS}"`);
  return scopeOf(last.name);
}

function gaussian(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function floats(t: Tensor): Float32Array {
  const raw = t.rawData!;
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

/** Gaussian values with the trained tensor's standard deviation: random, at the spread the tensor had. */
function gaussianLike(t: Tensor, random: Random): string {
  const trained = floats(t);
  const mean = trained.reduce((s, x) => s + x, 0) / trained.length;
  const sd = Math.sqrt(trained.reduce((s, x) => s + (x - mean) ** 2, 0) / trained.length);
  const values = trained.map(() => gaussian(random) * sd);
  t.rawData = new Uint8Array(values.buffer);
  return `N(0, ${sd.toPrecision(3)}²)`;
}

/** A weight matrix's values around their zero point (per column for MatMulInteger's B; none for an int8 table). */
function matrixRms(t: Tensor, zeroPoint: Tensor | undefined): number {
  const raw = t.rawData!;
  const signed = t.dataType === DataType.INT8;
  const zp = zeroPoint?.rawData;
  const columns = zp?.length ?? 1;
  let sum = 0;
  raw.forEach((v, i) => {
    const value = signed ? (v << 24) >> 24 : v;
    const centre = zp ? (zeroPoint!.dataType === DataType.INT8 ? (zp[i % columns]! << 24) >> 24 : zp[i % columns]!) : 0;
    sum += (value - centre) ** 2;
  });
  return Math.sqrt(sum / raw.length);
}

function roleOf(t: Tensor, node: Node, slot: number, linearScopes: Set<string>): Role {
  if (isMatrix(node, slot)) return 'weights';
  if (node.opType === 'MatMulInteger' && slot === 3) return 'zero point';
  if (t.dataType !== DataType.FLOAT) throw new Error(`${t.name}: no rule for a ${DataType[t.dataType!]} input ${slot} of ${node.opType}`);
  if (node.opType === 'Gather' && slot === 0) return node.name!.includes('_GatherScale') ? 'scale' : 'embedding table';
  const linear = linearScopes.has(scopeOf(node.name!));
  if (linear && node.opType === 'Mul') return 'scale';
  if (linear && node.opType === 'Add') return 'bias';
  if (!linear && (node.opType === 'Mul' || node.opType === 'Add')) return 'layer norm';
  throw new Error(`${t.name}: no rule for a float input ${slot} of ${node.opType} ${node.name}`);
}

function replace(t: Tensor, role: Role, random: Random): string {
  if (!t.rawData || t.rawData.length === 0) throw new Error(`${t.name} holds no raw data`);
  switch (role) {
    case 'weights':
      t.rawData = Uint8Array.from(t.rawData, () => Math.floor(random() * 256));
      return `uniform ${t.dataType === DataType.INT8 ? 'int8' : 'uint8'} values`;
    case 'zero point':
      t.rawData = t.rawData.map(() => (t.dataType === DataType.UINT8 ? 128 : 0));
      return 'the middle of the range';
    case 'bias':
    case 'embedding table':
      return gaussianLike(t, random);
    default:
      return 'kept';
  }
}

export function randomiseScopes(onnxBytes: Uint8Array, seed: number, scopes: string[]): RandomisedModel {
  const model = decodeModel(onnxBytes);
  const graph = model.graph as Graph;
  const initializers = new Map(graph.initializer.map((t) => [t.name!, t]));
  const linearScopes = new Set(graph.node.filter((n) => n.opType === 'MatMulInteger').map((n) => scopeOf(n.name!)));
  const total = graph.node.filter((n) => n.input!.some((input, slot) => initializers.has(input) && isMatrix(n, slot))).length;
  const random = seededRandom(seed);
  const done: RandomisedInitializer[] = [];
  for (const scope of scopes) {
    let randomised = 0;
    for (const node of graph.node.filter((n) => n.name?.startsWith(scope))) {
      node.input!.forEach((input, slot) => {
        const t = initializers.get(input);
        if (!t || done.some((d) => d.name === input)) return;
        const role = roleOf(t, node, slot, linearScopes);
        if (!KEPT.includes(role)) randomised++;
        const trainedRms = role === 'weights' ? matrixRms(t, initializers.get(node.input![3] ?? '')) : undefined;
        done.push({ name: input, role, replacedBy: replace(t, role, random), ...(trainedRms === undefined ? {} : { trainedRms }) });
      });
    }
    if (randomised === 0) throw new Error(`scope ${scope} has no weights to randomise`);
  }
  const matrices = done.filter((d) => d.role === 'weights').length;
  return { bytes: encodeModel(model), scopes, initializers: done, matrices: { randomised: matrices, total } };
}

/**
 * The cascade, top down: the classifier, then the pooler with it, then one encoder layer more per step from the
 * top, then the embeddings too (the whole model but its LayerNorms and quantization scales).
 */
export function cascade(onnxBytes: Uint8Array): { name: string; scopes: string[] }[] {
  const graph = decodeModel(onnxBytes).graph as Graph;
  const has = (scope: string) => graph.node.some((n) => n.name?.startsWith(scope));
  const layers = [...new Set(graph.node.map((n) => /^\/bert\/layers\.(\d+)\//.exec(n.name ?? '')?.[1]).filter((i) => i !== undefined))]
    .map(Number).sort((a, b) => b - a).map((i) => `/bert/layers.${i}/`);
  for (const scope of ['/bert/pooler/', '/bert/embeddings/']) if (!has(scope)) throw new Error(`the model has no ${scope}`);
  if (layers.length === 0) throw new Error('the model has no /bert/layers.N/');
  const steps = [{ name: 'classifier', scopes: [classifierScope(graph)] }];
  const add = (name: string, scope: string) => steps.push({ name, scopes: [...steps.at(-1)!.scopes, scope] });
  add('pooler + classifier', '/bert/pooler/');
  layers.forEach((scope, i) => {
    const top = i === layers.length - 1 ? `all ${layers.length} layers` : i === 0 ? 'top layer' : `top ${i + 1} layers`;
    add(`${top} + pooler + classifier`, scope);
  });
  add(`all ${layers.length} layers + pooler + classifier + embeddings`, '/bert/embeddings/');
  return steps;
}
