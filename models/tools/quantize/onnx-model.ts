/** Reading, writing and building ONNX protobuf messages (schema from the onnx-proto package). */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type Model = onnxProto.onnx.ModelProto;
export type Graph = onnxProto.onnx.GraphProto;
export type Node = onnxProto.onnx.INodeProto;
export type Tensor = onnxProto.onnx.ITensorProto;
export const DataType = onnx.TensorProto.DataType;

export class OnnxFormatError extends Error {
  override name = 'OnnxFormatError';
}

export function decodeModel(bytes: Uint8Array): Model {
  try {
    const model = onnx.ModelProto.decode(bytes);
    if (!model.graph || (model.graph.node ?? []).length === 0) throw new Error('no graph');
    return model;
  } catch {
    throw new OnnxFormatError('not an ONNX model (the file does not parse as an ONNX ModelProto with a graph)');
  }
}

/** Decoded messages always carry their repeated fields as arrays. */
export function graphOf(model: Model): Graph {
  return model.graph as Graph;
}

export function encodeModel(model: Model): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

const toNumber = (value: number | { toNumber(): number }): number => (typeof value === 'number' ? value : value.toNumber());

export function dims(tensor: Tensor): number[] {
  return (tensor.dims ?? []).map(toNumber);
}

/** The float32 values of an initializer, whether stored as raw bytes or in float_data. */
export function floatValues(tensor: Tensor): Float32Array {
  if (tensor.dataType !== DataType.FLOAT) throw new OnnxFormatError(`tensor ${tensor.name} is not float32`);
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new OnnxFormatError(`tensor ${tensor.name} uses external data, which the quantizer does not read`);
  }
  const raw = tensor.rawData;
  if (raw && raw.length > 0) {
    const copy = new Uint8Array(raw); // aligned copy: raw bytes may sit at any offset in the file buffer
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(tensor.floatData ?? []);
}

function rawTensor(name: string, dataType: number, shape: number[], bytes: Uint8Array): Tensor {
  return onnx.TensorProto.create({ name, dataType, dims: shape, rawData: bytes });
}

export function floatTensor(name: string, shape: number[], values: Float32Array): Tensor {
  return rawTensor(name, DataType.FLOAT, shape, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

export function int8Tensor(name: string, shape: number[], values: Int8Array): Tensor {
  return rawTensor(name, DataType.INT8, shape, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

export function uint8Tensor(name: string, shape: number[], values: Uint8Array): Tensor {
  return rawTensor(name, DataType.UINT8, shape, values);
}

export function node(opType: string, inputs: string[], outputs: string[], name: string, attributes: Record<string, number> = {}): Node {
  const attribute = Object.entries(attributes).map(([key, i]) =>
    onnx.AttributeProto.create({ name: key, type: onnx.AttributeProto.AttributeType.INT, i }),
  );
  return onnx.NodeProto.create({ opType, input: inputs, output: outputs, name, attribute });
}

export function intAttribute(n: Node, name: string, fallback: number): number {
  const attr = n.attribute?.find((a) => a.name === name);
  return attr?.i === undefined || attr.i === null ? fallback : toNumber(attr.i);
}

export function floatAttribute(n: Node, name: string, fallback: number): number {
  const attr = n.attribute?.find((a) => a.name === name);
  return attr?.f ?? fallback;
}

export function defaultOpset(model: Model): number {
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry?.version === undefined || entry.version === null ? 0 : toNumber(entry.version);
}
