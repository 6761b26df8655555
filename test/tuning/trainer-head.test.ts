import { describe, expect, it } from 'vitest';
import { decodeHead, encodeHead, headBytes, headLogits, type ClassifierHead } from '../../functions/tuning/trainer/classifier-head.js';
import { seededRandom } from '../../functions/tuning/trainer/prng.js';

function randomHead(labels: number, dimensions: number, seed = 1): ClassifierHead {
  const random = seededRandom(seed);
  return {
    base: 'electra-imdb-small@1',
    labels: Array.from({ length: labels }, (_, k) => `label ${k} ✓`),
    dimensions,
    weights: Float32Array.from({ length: labels * dimensions }, () => random() * 2 - 1),
    bias: Float32Array.from({ length: labels }, () => random() - 0.5),
  };
}

describe('classifier head bytes', () => {
  it('round-trips exactly, and stays well under 1 MB for 100 labels x 192', () => {
    const head = randomHead(100, 192);
    const bytes = encodeHead(head);
    expect(bytes.length).toBe(headBytes(head));
    expect(bytes.length).toBeLessThan(100_000);
    const decoded = decodeHead(bytes);
    expect(decoded).toEqual(head);
    expect(Buffer.from(decoded.weights.buffer).equals(Buffer.from(head.weights.buffer))).toBe(true);
  });

  it('decodes a head from a view into a larger buffer at an odd offset', () => {
    const head = randomHead(3, 5);
    const bytes = encodeHead(head);
    const larger = new Uint8Array(bytes.length + 7);
    larger.set(bytes, 3);
    expect(decodeHead(larger.subarray(3, 3 + bytes.length))).toEqual(head);
  });

  it('refuses truncated, padded and foreign bytes with a clear error', () => {
    const bytes = encodeHead(randomHead(2, 8));
    expect(() => decodeHead(bytes.subarray(0, bytes.length - 1))).toThrow(/^not a classifier head: .* bytes where 2 labels x 8 dimensions take/);
    expect(() => decodeHead(new Uint8Array([...bytes, 0]))).toThrow(/bytes where 2 labels x 8 dimensions/);
    expect(() => decodeHead(bytes.subarray(0, 20))).toThrow(/header of \d+ bytes passes the end/);
    expect(() => decodeHead(bytes.subarray(0, 3))).toThrow(/does not start with "FTHD"/);
    expect(() => decodeHead(new TextEncoder().encode('{"labels": ["a", "b"]}'))).toThrow(/does not start with "FTHD"/);
  });

  it('refuses another format version and a broken header', () => {
    const bytes = encodeHead(randomHead(2, 4));
    const length = new DataView(bytes.buffer).getUint32(4, true);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + length));
    const future = new Uint8Array(bytes);
    future.set(new TextEncoder().encode(header.replace('"version":1', '"version":9')), 8);
    expect(() => decodeHead(future)).toThrow(/format version 9; this code reads version 1/);
    const broken = new Uint8Array(bytes);
    broken[8] = 0x7a;
    expect(() => decodeHead(broken)).toThrow(/header is not JSON/);
  });

  it('computes weights · vector + bias', () => {
    const head: ClassifierHead = { base: 'b@1', labels: ['a', 'b'], dimensions: 3, weights: Float32Array.from([1, 2, 3, -1, 0, 0.5]), bias: Float32Array.from([0.5, -1]) };
    expect(Array.from(headLogits(head, [1, 1, 2]))).toEqual([9.5, -1]);
    expect(() => headLogits(head, [1, 2])).toThrow(/2 numbers for a head over 3 dimensions/);
  });
});
