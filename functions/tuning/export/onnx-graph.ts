/**
 * The few ONNX protobuf pieces the export builds (schema from the onnx-proto package): production code may not
 * import models/tools/quantize, whose helpers are the offline tools' own.
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type Model = onnxProto.onnx.ModelProto;
export type Graph = onnxProto.onnx.GraphProto;
export type Node = onnxProto.onnx.INodeProto;
export type Tensor = onnxProto.onnx.ITensorProto;
export type ValueInfo = onnxProto.onnx.IValueInfoProto;
export const DataType = onnx.TensorProto.DataType;

export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}

export function decodeModel(bytes: Uint8Array): Model {
  let model: Model;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch {
    throw new OnnxExportError('the base encoder is not an ONNX model (its file does not parse as a ModelProto)');
  }
  if (!model.graph || (model.graph.node ?? []).length === 0) throw new OnnxExportError('the base encoder has no graph');
  return model;
}

export function encodeModel(model: Model): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

const toNumber = (value: number | { toNumber(): number } | null | undefined): number =>
  value === null || value === undefined ? 0 : typeof value === 'number' ? value : value.toNumber();

/** The version of the default (ai.onnx) operator set the model imports. */
export function defaultOpset(model: Model): number {
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  return toNumber(entry?.version);
}

export function floatTensor(name: string, shape: number[], values: Float32Array): Tensor {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return onnx.TensorProto.create({ name, dataType: DataType.FLOAT, dims: shape, rawData: bytes.slice() });
}

export function int64Tensor(name: string, values: number[]): Tensor {
  return onnx.TensorProto.create({ name, dataType: DataType.INT64, dims: [values.length], int64Data: values });
}

type Attribute = { ints: number[] } | { int: number };

export function node(opType: string, inputs: string[], outputs: string[], name: string, attributes: Record<string, Attribute> = {}): Node {
  const attribute = Object.entries(attributes).map(([key, value]) =>
    'ints' in value
      ? onnx.AttributeProto.create({ name: key, type: onnx.AttributeProto.AttributeType.INTS, ints: value.ints })
      : onnx.AttributeProto.create({ name: key, type: onnx.AttributeProto.AttributeType.INT, i: value.int }),
  );
  return onnx.NodeProto.create({ opType, input: inputs, output: outputs, name, attribute });
}

/** A float32 tensor's declared shape: a number for a fixed dimension, its name for a symbolic one. */
export function floatValueInfo(name: string, shape: (number | string)[]): ValueInfo {
  const dim = shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim } } } });
}

/** A value's declared dimensions (number, symbolic name, or null where the file says nothing). */
export function shapeOf(info: ValueInfo): (number | string | null)[] {
  return (info.type?.tensorType?.shape?.dim ?? []).map((d) =>
    d.dimParam ? d.dimParam : d.dimValue !== null && d.dimValue !== undefined ? toNumber(d.dimValue) : null,
  );
}

export function elementType(info: ValueInfo): number | null {
  return info.type?.tensorType?.elemType ?? null;
}
