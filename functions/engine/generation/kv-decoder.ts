/**
 * A decoder-only ONNX model with a KV cache (the transformers.js layout: input_ids, attention_mask, position_ids,
 * past_key_values.N.key/value in, logits and present.N.key/value out). Each sequence keeps its own cache; a decode
 * step packs the caches of any set of sequences into one batch, left-padded and masked, so sequences can join and
 * leave between steps.
 */
import type { OrtSessionLike, OrtTensorLike } from '../ort-types.js';

export type DecoderTensor = OrtTensorLike;
export type DecoderSession = OrtSessionLike;

export type DecoderTensorFactory = {
  (type: 'int64', data: BigInt64Array, dims: number[]): DecoderTensor;
  (type: 'float32', data: Float32Array, dims: number[]): DecoderTensor;
};

export interface DecoderShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  vocabSize: number;
  maxPositions: number;
}

/** One sequence's cache: per layer, keys and values laid out [kvHeads, length, headDim]. */
export interface KvCache {
  length: number;
  keys: Float32Array[];
  values: Float32Array[];
}

export class KvDecoder {
  constructor(
    private readonly session: DecoderSession,
    private readonly tensor: DecoderTensorFactory,
    readonly shape: DecoderShape,
  ) {}

  /** Runs a prompt through the model: the logits of its last position and its cache. */
  async prefill(ids: number[]): Promise<{ logits: Float32Array; cache: KvCache }> {
    const t = ids.length;
    const feeds = this.feeds([ids], [Array(t).fill(1)], [ids.map((_, i) => i)], 0, () => {});
    const out = await this.run(feeds);
    const { vocabSize } = this.shape;
    const logits = (out.logits!.data as Float32Array).slice((t - 1) * vocabSize, t * vocabSize);
    const cache: KvCache = { length: t, keys: [], values: [] };
    for (let layer = 0; layer < this.shape.layers; layer++) {
      cache.keys.push((out[`present.${layer}.key`]!.data as Float32Array).slice());
      cache.values.push((out[`present.${layer}.value`]!.data as Float32Array).slice());
    }
    return { logits, cache };
  }

  /** One new token for each sequence, all in one session.run: their next logits and grown caches. */
  async step(sequences: { token: number; cache: KvCache }[]): Promise<{ logits: Float32Array[]; caches: KvCache[] }> {
    const past = Math.max(...sequences.map((s) => s.cache.length));
    const { kvHeads, headDim, layers, vocabSize } = this.shape;
    const masks = sequences.map((s) => [...Array(past - s.cache.length).fill(0), ...Array(s.cache.length + 1).fill(1)]);
    const feeds = this.feeds(sequences.map((s) => [s.token]), masks, sequences.map((s) => [s.cache.length]), past, (name, layer, data) => {
      sequences.forEach((s, b) => {
        const src = name === 'key' ? s.cache.keys[layer]! : s.cache.values[layer]!;
        const pad = past - s.cache.length;
        for (let h = 0; h < kvHeads; h++) {
          data.set(src.subarray(h * s.cache.length * headDim, (h + 1) * s.cache.length * headDim), ((b * kvHeads + h) * past + pad) * headDim);
        }
      });
    });
    const out = await this.run(feeds);
    const logits = sequences.map((_, b) => (out.logits!.data as Float32Array).slice(b * vocabSize, (b + 1) * vocabSize));
    const caches = sequences.map((s, b) => {
      const length = s.cache.length + 1;
      const pad = past - s.cache.length;
      const cut = (present: Float32Array) => {
        const mine = new Float32Array(kvHeads * length * headDim);
        for (let h = 0; h < kvHeads; h++) {
          const from = ((b * kvHeads + h) * (past + 1) + pad) * headDim;
          mine.set(present.subarray(from, from + length * headDim), h * length * headDim);
        }
        return mine;
      };
      const cache: KvCache = { length, keys: [], values: [] };
      for (let layer = 0; layer < layers; layer++) {
        cache.keys.push(cut(out[`present.${layer}.key`]!.data as Float32Array));
        cache.values.push(cut(out[`present.${layer}.value`]!.data as Float32Array));
      }
      return cache;
    });
    return { logits, caches };
  }

  private feeds(ids: number[][], masks: number[][], positions: number[][], past: number, fillPast: (name: 'key' | 'value', layer: number, data: Float32Array) => void) {
    const batch = ids.length;
    const width = ids[0]!.length;
    const int64 = (rows: number[][]) => this.tensor('int64', BigInt64Array.from(rows.flat(), (v) => BigInt(v)), [batch, rows[0]!.length]);
    const feeds: Record<string, DecoderTensor> = { input_ids: int64(ids), attention_mask: int64(masks), position_ids: int64(positions) };
    if (width < 1) throw new Error('nothing to run');
    const { kvHeads, headDim } = this.shape;
    for (let layer = 0; layer < this.shape.layers; layer++) {
      for (const name of ['key', 'value'] as const) {
        const data = new Float32Array(batch * kvHeads * past * headDim);
        if (past > 0) fillPast(name, layer, data);
        feeds[`past_key_values.${layer}.${name}`] = this.tensor('float32', data, [batch, kvHeads, past, headDim]);
      }
    }
    return feeds;
  }

  private async run(feeds: Record<string, DecoderTensor>) {
    const out = await this.session.run(feeds);
    if (!out.logits || !(out.logits.data instanceof Float32Array)) throw new Error('the decoder has no float32 "logits" output');
    return out;
  }
}
