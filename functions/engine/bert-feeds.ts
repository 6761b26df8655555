/**
 * The inputs of one session.run of a BERT-family ONNX model: token id rows padded to the longest with the padding
 * id, the attention mask over the real tokens, and all-zero token types when the model takes them.
 */
import type { OrtSessionLike, OrtTensorLike } from './ort-types.js';

export type TensorFactory = (type: 'int64', data: BigInt64Array, dims: number[]) => OrtTensorLike;

export function paddedFeeds(rows: number[][], padId: number, session: OrtSessionLike, createTensor: TensorFactory): { feeds: Record<string, OrtTensorLike>; width: number } {
  const width = Math.max(...rows.map((r) => r.length));
  const size = rows.length * width;
  const ids = new BigInt64Array(size).fill(BigInt(padId));
  const mask = new BigInt64Array(size);
  rows.forEach((row, r) => {
    row.forEach((id, col) => {
      ids[r * width + col] = BigInt(id);
      mask[r * width + col] = 1n;
    });
  });
  const shape = [rows.length, width];
  const feeds: Record<string, OrtTensorLike> = {
    input_ids: createTensor('int64', ids, shape),
    attention_mask: createTensor('int64', mask, shape),
  };
  if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = createTensor('int64', new BigInt64Array(size), shape);
  return { feeds, width };
}
