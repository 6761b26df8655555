/**
 * A tenant model as one ONNX file: the base encoder's graph (left as it is, int8), then the masked mean pooling of
 * `last_hidden_state` that the feature-extraction engine computes for a text within one window, then the head's
 * linear layer (float32) giving `logits` [batch, labels]. What transformers.js' text-classification pipeline runs.
 */
import type { ClassifierHead } from '../trainer/classifier-head.js';
import {
  DataType,
  OnnxExportError,
  decodeModel,
  defaultOpset,
  elementType,
  encodeModel,
  floatTensor,
  floatValueInfo,
  int64Tensor,
  node,
  shapeOf,
  type Graph,
  type Node,
  type Tensor,
} from './onnx-graph.js';

const HIDDEN = 'last_hidden_state';
const MASK = 'attention_mask';
export const LOGITS = 'logits';
/** The smallest mask sum pooling divides by: a row with no tokens pools to zeros instead of NaN. */
export const MASK_SUM_FLOOR = 1e-9;
/** Opset 13 moved Unsqueeze's and ReduceSum's axes from attributes to inputs. */
const AXES_AS_INPUT = 13;
const PREFIX = 'tenant_head/';

/** The base encoder's ONNX bytes with the head merged: a new model, same IR version and operator sets. */
export function mergeHead(baseOnnx: Uint8Array, head: ClassifierHead): Uint8Array {
  checkHead(head);
  const model = decodeModel(baseOnnx);
  const graph = model.graph as Graph;
  const hidden = graph.output.find((o) => o.name === HIDDEN);
  if (!hidden) throw new OnnxExportError(`the base encoder has no "${HIDDEN}" output`);
  const mask = graph.input.find((i) => i.name === MASK);
  if (!mask) throw new OnnxExportError(`the base encoder has no "${MASK}" input`);
  const hiddenShape = shapeOf(hidden);
  const width = hiddenShape[2];
  if (elementType(hidden) !== DataType.FLOAT || hiddenShape.length !== 3) {
    throw new OnnxExportError(`the base encoder's "${HIDDEN}" is not float32 [batch, sequence, hidden]`);
  }
  if (typeof width === 'number' && width !== head.dimensions) {
    throw new OnnxExportError(`the head reads ${head.dimensions} features but the base encoder gives ${width}`);
  }
  const taken = new Set([...graph.node.flatMap((n) => n.output), ...graph.initializer.map((t) => t.name), ...graph.input.map((i) => i.name)]);
  if ([...taken].some((name) => name?.startsWith(PREFIX) || name === LOGITS)) {
    throw new OnnxExportError(`the base encoder already names a tensor "${LOGITS}" or "${PREFIX}…"`);
  }

  const { nodes, initializers } = headNodes(head, defaultOpset(model));
  graph.node.push(...nodes);
  graph.initializer.push(...initializers);
  const batch = shapeOf(mask)[0] ?? 'batch_size';
  graph.output = [floatValueInfo(LOGITS, [batch, head.labels.length])];
  return encodeModel(model);
}

function checkHead(head: ClassifierHead): void {
  const labels = head.labels.length;
  if (labels < 1 || head.dimensions < 1) throw new OnnxExportError('the head has no labels or no dimensions');
  if (head.weights.length !== labels * head.dimensions || head.bias.length !== labels) {
    throw new OnnxExportError(`the head's weights are not ${labels} x ${head.dimensions} or its bias not ${labels} long`);
  }
}

/** pooled = sum_t(h_t * m_t) / max(sum_t m_t, floor); logits = pooled · Wᵀ + b. */
function headNodes(head: ClassifierHead, opset: number): { nodes: Node[]; initializers: Tensor[] } {
  const t = (name: string) => PREFIX + name;
  const initializers: Tensor[] = [
    floatTensor(t('weights_t'), [head.dimensions, head.labels.length], transpose(head.weights, head.labels.length, head.dimensions)),
    floatTensor(t('bias'), [head.labels.length], head.bias),
    floatTensor(t('mask_sum_floor'), [], Float32Array.of(MASK_SUM_FLOOR)),
  ];
  const axesInput = opset >= AXES_AS_INPUT;
  const unsqueeze = axesInput
    ? node('Unsqueeze', [t('mask'), t('last_axis')], [t('mask_3d')], t('Unsqueeze'))
    : node('Unsqueeze', [t('mask')], [t('mask_3d')], t('Unsqueeze'), { axes: { ints: [-1] } });
  const reduceSum = (input: string, output: string) =>
    axesInput
      ? node('ReduceSum', [input, t('sequence_axis')], [output], t(`ReduceSum_${output.slice(PREFIX.length)}`), { keepdims: { int: 0 } })
      : node('ReduceSum', [input], [output], t(`ReduceSum_${output.slice(PREFIX.length)}`), { axes: { ints: [1] }, keepdims: { int: 0 } });
  if (axesInput) initializers.push(int64Tensor(t('last_axis'), [-1]), int64Tensor(t('sequence_axis'), [1]));
  const nodes = [
    node('Cast', [MASK], [t('mask')], t('Cast'), { to: { int: DataType.FLOAT } }),
    unsqueeze,
    node('Mul', [HIDDEN, t('mask_3d')], [t('masked')], t('Mul')),
    reduceSum(t('masked'), t('summed')),
    reduceSum(t('mask_3d'), t('tokens')),
    node('Max', [t('tokens'), t('mask_sum_floor')], [t('tokens_floored')], t('Max')),
    node('Div', [t('summed'), t('tokens_floored')], [t('pooled')], t('Div')),
    node('MatMul', [t('pooled'), t('weights_t')], [t('scores')], t('MatMul')),
    node('Add', [t('scores'), t('bias')], [LOGITS], t('Add')),
  ];
  return { nodes, initializers };
}

function transpose(rowMajor: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(rowMajor.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = rowMajor[r * columns + c]!;
  return out;
}
