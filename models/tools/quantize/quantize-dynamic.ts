/**
 * Dynamic int8 quantization for BERT-family ONNX graphs, in the scheme of onnxruntime's quantize_dynamic:
 * each MatMul/Gemm with a constant weight becomes DynamicQuantizeLinear + MatMulInteger + Cast + Mul (the
 * pattern onnxruntime's optimizer may fuse into DynamicQuantizeMatMul), integer arithmetic either way; the weights are
 * stored as weight-format.ts says (uint8 by default: exact on every CPU). Large embedding
 * tables are stored as int8 with a scale per row and dequantized after the Gather, so only looked-up rows cost time.
 */
import {
  decodeModel, defaultOpset, graphOf, dims, encodeModel, floatAttribute, floatTensor, floatValues, int8Tensor, intAttribute,
  node, DataType, OnnxFormatError, type Model, type Node, type Tensor,
} from './onnx-model.js';
import { quantizePerRow, transpose } from './int8-weights.js';
import { weightTensors, type WeightFormat } from './weight-format.js';

export interface QuantizeOptions {
  /** Embedding tables with at least this many rows are stored as int8. */
  minEmbeddingRows: number;
  /** Node names (exact) to leave in float32. */
  exclude: string[];
  /** How MatMul/Gemm weights are stored (weight-format.ts): the default is saturation-safe on every CPU. */
  weights: WeightFormat;
}

export interface QuantizeReport {
  matmuls: number;
  gemms: number;
  embeddings: number;
  bytesBefore: number;
  bytesAfter: number;
}

export const defaultQuantizeOptions: QuantizeOptions = { minEmbeddingRows: 1024, exclude: [], weights: 'uint8' };

class GraphRewriter {
  private readonly initializers: Map<string, Tensor>;
  private readonly added: Tensor[] = [];
  private readonly quantizedInputs = new Map<string, [string, string, string]>();
  private counter = 0;

  constructor(private readonly model: Model, private readonly weights: WeightFormat) {
    this.initializers = new Map(graphOf(model).initializer.map((t) => [t.name!, t]));
  }

  floatMatrix(name: string | undefined | null): { tensor: Tensor; rows: number; cols: number } | null {
    const tensor = name ? this.initializers.get(name) : undefined;
    if (!tensor || tensor.dataType !== DataType.FLOAT) return null;
    const shape = dims(tensor);
    return shape.length === 2 ? { tensor, rows: shape[0]!, cols: shape[1]! } : null;
  }

  unique(base: string): string {
    return `${base.replace(/[^A-Za-z0-9_.:/-]/g, '_')}_q${this.counter++}`;
  }

  addInitializer(tensor: Tensor): string {
    this.added.push(tensor);
    return tensor.name!;
  }

  /** DynamicQuantizeLinear(x) · quantized W → float output, W given as [K, N] row-major. */
  quantizedMatMul(input: string, weight: Float32Array, k: number, n: number, output: string, label: string): Node[] {
    const [wName, scaleName, zeroName] = [`W_${this.weights}`, 'W_scale', 'W_zero_point'].map((s) => this.unique(`${label}_${s}`)) as [string, string, string];
    const q = weightTensors(this.weights, weight, k, n, { weight: wName, zeroPoint: zeroName });
    const w = this.addInitializer(q.weight);
    const wScale = this.addInitializer(floatTensor(scaleName, [n], q.scale));
    const wZero = this.addInitializer(q.zeroPoint);
    const nodes: Node[] = [];
    let quantized = this.quantizedInputs.get(input);
    if (!quantized) {
      // Q, K and V (and any other MatMuls reading the same tensor) share one quantization of it.
      quantized = ['x_uint8', 'x_scale', 'x_zero_point'].map((s) => this.unique(`${label}_${s}`)) as [string, string, string];
      this.quantizedInputs.set(input, quantized);
      nodes.push(node('DynamicQuantizeLinear', [input], quantized, this.unique(`${label}_DynamicQuantizeLinear`)));
    }
    const [xq, xScale, xZero] = quantized;
    const [acc, accFloat, scale] = ['int32', 'float', 'scale'].map((s) => this.unique(`${label}_${s}`)) as [string, string, string];
    nodes.push(
      node('MatMulInteger', [xq, w, xZero, wZero], [acc], this.unique(`${label}_MatMulInteger`)),
      node('Cast', [acc], [accFloat], this.unique(`${label}_Cast`), { to: DataType.FLOAT }),
      node('Mul', [xScale, wScale], [scale], this.unique(`${label}_ScaleProduct`)),
      node('Mul', [accFloat, scale], [output], this.unique(`${label}_Rescale`)),
    );
    return nodes;
  }

  /** Gather from an int8 table, then multiply the gathered rows by their own scales. */
  quantizedGather(table: Float32Array, rows: number, cols: number, indices: string, output: string, label: string): Node[] {
    const { values, scales } = quantizePerRow(table, rows, cols);
    const q = this.addInitializer(int8Tensor(this.unique(`${label}_int8`), [rows, cols], values));
    const s = this.addInitializer(floatTensor(this.unique(`${label}_row_scale`), [rows, 1], scales));
    const [gq, gf, gs] = ['rows_int8', 'rows_float', 'rows_scale'].map((x) => this.unique(`${label}_${x}`)) as [string, string, string];
    return [
      node('Gather', [q, indices], [gq], this.unique(`${label}_GatherInt8`), { axis: 0 }),
      node('Cast', [gq], [gf], this.unique(`${label}_Cast`), { to: DataType.FLOAT }),
      node('Gather', [s, indices], [gs], this.unique(`${label}_GatherScale`), { axis: 0 }),
      node('Mul', [gf, gs], [output], this.unique(`${label}_Dequantize`)),
    ];
  }

  finish(nodes: Node[]): void {
    const graph = graphOf(this.model);
    graph.node = nodes;
    const used = new Set(nodes.flatMap((n) => n.input ?? []));
    const produced = new Set(nodes.flatMap((n) => n.output ?? []));
    graph.initializer = [...graph.initializer, ...this.added].filter((t) => used.has(t.name!));
    graph.valueInfo = graph.valueInfo.filter((v) => used.has(v.name!) || produced.has(v.name!));
  }
}

function assertBertLike(model: Model): void {
  const inputs = graphOf(model).input.map((i) => i.name);
  if (!inputs.includes('input_ids')) {
    throw new OnnxFormatError(`not a BERT-like model: it has no input_ids input (inputs: ${inputs.join(', ') || 'none'})`);
  }
  if (inputs.some((name) => name?.startsWith('past_key_values'))) {
    throw new OnnxFormatError('not a BERT-like model: it takes past_key_values, so it is a decoder with a KV cache, not an encoder');
  }
  if (defaultOpset(model) < 11) {
    throw new OnnxFormatError(`opset ${defaultOpset(model)} is too old: int8 MatMul needs opset 11 or newer`);
  }
}

function rewriteNode(g: GraphRewriter, n: Node, options: QuantizeOptions, report: QuantizeReport): Node[] | null {
  const label = n.name || n.output![0]!;
  if (options.exclude.includes(n.name ?? '')) return null;
  if (n.opType === 'MatMul') {
    const w = g.floatMatrix(n.input![1]);
    if (!w) return null;
    report.matmuls++;
    return g.quantizedMatMul(n.input![0]!, floatValues(w.tensor), w.rows, w.cols, n.output![0]!, label);
  }
  if (n.opType === 'Gemm') {
    const w = g.floatMatrix(n.input![1]);
    const plain = intAttribute(n, 'transA', 0) === 0 && floatAttribute(n, 'alpha', 1) === 1 && floatAttribute(n, 'beta', 1) === 1;
    if (!w || !plain) return null;
    const transB = intAttribute(n, 'transB', 0) === 1;
    const [k, cols] = transB ? [w.cols, w.rows] : [w.rows, w.cols];
    const weight = transB ? transpose(floatValues(w.tensor), w.rows, w.cols) : floatValues(w.tensor);
    const bias = n.input![2];
    const product = bias ? g.unique(`${label}_product`) : n.output![0]!;
    const nodes = g.quantizedMatMul(n.input![0]!, weight, k, cols, product, label);
    if (bias) nodes.push(node('Add', [product, bias], [n.output![0]!], g.unique(`${label}_Bias`)));
    report.gemms++;
    return nodes;
  }
  if (n.opType === 'Gather' && intAttribute(n, 'axis', 0) === 0) {
    const table = g.floatMatrix(n.input![0]);
    if (!table || table.rows < options.minEmbeddingRows) return null;
    report.embeddings++;
    return g.quantizedGather(floatValues(table.tensor), table.rows, table.cols, n.input![1]!, n.output![0]!, label);
  }
  return null;
}

export function quantizeDynamic(modelBytes: Uint8Array, overrides: Partial<QuantizeOptions> = {}): { bytes: Uint8Array; report: QuantizeReport } {
  const options: QuantizeOptions = { ...defaultQuantizeOptions, ...overrides };
  const model = decodeModel(modelBytes);
  assertBertLike(model);
  const g = new GraphRewriter(model, options.weights);
  const report: QuantizeReport = { matmuls: 0, gemms: 0, embeddings: 0, bytesBefore: modelBytes.length, bytesAfter: 0 };
  const nodes = graphOf(model).node.flatMap((n) => rewriteNode(g, n, options, report) ?? [n]);
  // A model whose only large weight is its word table (the GloVe BiLSTM, whose LSTM op has no int8 kernel here) is
  // worth quantizing too; nothing at all to quantize means the file is not what the caller thinks.
  if (report.matmuls + report.gemms + report.embeddings === 0) {
    throw new OnnxFormatError('nothing to quantize: no MatMul or Gemm has a constant 2-D float32 weight and no Gather reads a large embedding table');
  }
  g.finish(nodes);
  const bytes = encodeModel(model);
  report.bytesAfter = bytes.length;
  return { bytes, report };
}
