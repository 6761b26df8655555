/**
 * A tenant's classifier: a linear layer over the base encoder's pooled features (standardisation folded into the
 * weights), so one encoder serves every tenant and a tenant model costs kilobytes. Encoded as bytes to store it.
 */
export interface ClassifierHead {
  /** The base encoder, id@version. */
  base: string;
  labels: string[];
  dimensions: number;
  /** labels.length x dimensions, row-major. */
  weights: Float32Array;
  /** One per label. */
  bias: Float32Array;
}

/**
 * The stored form, version 1: "FTHD", a little-endian uint32 header length, a UTF-8 JSON header
 * {version, base, labels, dimensions}, zero padding to a multiple of 4, then labels x dimensions Float32 weights
 * (row-major) and one Float32 bias per label, little-endian. Kilobytes: 100 labels over 192 features are 77 KB.
 */
const MAGIC = [0x46, 0x54, 0x48, 0x44]; // "FTHD"
const FORMAT_VERSION = 1;
const PREFIX_BYTES = 8;
/** A header longer than this is no head of ours: 100 labels of 200 characters and a base name fit in 64 KiB. */
const MAX_HEADER_BYTES = 1 << 20;

interface HeadHeader {
  version: number;
  base: string;
  labels: string[];
  dimensions: number;
}

const align4 = (n: number): number => (n + 3) & ~3;

function headerBytes(head: ClassifierHead): Uint8Array {
  const header: HeadHeader = { version: FORMAT_VERSION, base: head.base, labels: head.labels, dimensions: head.dimensions };
  return new TextEncoder().encode(JSON.stringify(header));
}

/** The encoded size: what a stored head costs. */
export function headBytes(head: ClassifierHead): number {
  return align4(PREFIX_BYTES + headerBytes(head).length) + 4 * (head.weights.length + head.bias.length);
}

export function encodeHead(head: ClassifierHead): Uint8Array {
  checkShape(head);
  const header = headerBytes(head);
  const bodyOffset = align4(PREFIX_BYTES + header.length);
  const bytes = new Uint8Array(bodyOffset + 4 * (head.weights.length + head.bias.length));
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(4, header.length, true);
  bytes.set(header, PREFIX_BYTES);
  let offset = bodyOffset;
  for (const values of [head.weights, head.bias]) {
    for (let i = 0; i < values.length; i++, offset += 4) view.setFloat32(offset, values[i]!, true);
  }
  return bytes;
}

/** Refuses anything that is not a whole version-1 head with an Error saying what is wrong. */
export function decodeHead(bytes: Uint8Array): ClassifierHead {
  if (bytes.length < PREFIX_BYTES || MAGIC.some((byte, i) => bytes[i] !== byte)) refuse('it does not start with "FTHD"');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, true);
  if (headerLength > MAX_HEADER_BYTES || PREFIX_BYTES + headerLength > bytes.length) refuse(`its header of ${headerLength} bytes passes the end of ${bytes.length} bytes`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength)));
  } catch (error) {
    refuse(`its header is not JSON (${(error as Error).message})`);
  }
  const { version, base, labels, dimensions } = (header ?? {}) as Partial<HeadHeader>;
  if (version !== FORMAT_VERSION) refuse(`format version ${String(version)}; this code reads version ${FORMAT_VERSION}`);
  if (typeof base !== 'string') refuse('its header has no base');
  if (!Array.isArray(labels) || labels.length === 0 || labels.some((label) => typeof label !== 'string')) refuse('its header has no list of labels');
  if (typeof dimensions !== 'number' || !Number.isSafeInteger(dimensions) || dimensions <= 0) refuse(`dimensions ${String(dimensions)} is not a positive integer`);
  const count = labels.length * dimensions;
  const bodyOffset = align4(PREFIX_BYTES + headerLength);
  const expected = bodyOffset + 4 * (count + labels.length);
  if (bytes.length !== expected) refuse(`${bytes.length} bytes where ${labels.length} labels x ${dimensions} dimensions take ${expected}`);
  const weights = new Float32Array(count);
  const bias = new Float32Array(labels.length);
  let offset = bodyOffset;
  for (const values of [weights, bias]) {
    for (let i = 0; i < values.length; i++, offset += 4) values[i] = view.getFloat32(offset, true);
  }
  return { base, labels, dimensions, weights, bias };
}

/** weights · vector + bias: one logit per label, accumulated in float64. */
export function headLogits(head: ClassifierHead, vector: ArrayLike<number>): Float32Array {
  if (vector.length !== head.dimensions) throw new RangeError(`a vector of ${vector.length} numbers for a head over ${head.dimensions} dimensions`);
  const logits = new Float32Array(head.labels.length);
  for (let k = 0; k < head.labels.length; k++) {
    let sum = head.bias[k]!;
    const row = k * head.dimensions;
    for (let j = 0; j < head.dimensions; j++) sum += head.weights[row + j]! * vector[j]!;
    logits[k] = sum;
  }
  return logits;
}

function refuse(why: string): never {
  throw new Error(`not a classifier head: ${why}`);
}

function checkShape(head: ClassifierHead): void {
  if (head.weights.length !== head.labels.length * head.dimensions || head.bias.length !== head.labels.length) {
    throw new RangeError(`a head of ${head.labels.length} labels x ${head.dimensions} dimensions has ${head.weights.length} weights and ${head.bias.length} biases`);
  }
}
