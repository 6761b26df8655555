/**
 * Runs a BERT-family sequence classifier: tokenize, pad a batch to its longest text, one session.run, logits.
 * The ONNX runtime is injected (onnxruntime-web or onnxruntime-node share this API), so this runs anywhere.
 */
import type { WordPieceTokenizer } from '../tokenizer/wordpiece-tokenizer.js';

export interface OrtTensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
}

export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
}

export type TensorFactory = (type: 'int64', data: BigInt64Array, dims: number[]) => OrtTensorLike;

export interface ClassifiedBatch {
  /** One row of logits per input text. */
  logits: Float32Array[];
  /** Tokens per text, [CLS] and [SEP] included. */
  tokenCounts: number[];
  truncated: boolean[];
  tokenizeMs: number;
  inferenceMs: number;
}

export class SequenceClassifier {
  constructor(
    private readonly session: OrtSessionLike,
    private readonly tokenizer: WordPieceTokenizer,
    private readonly createTensor: TensorFactory,
    readonly labels: string[],
    private readonly now: () => number = () => performance.now(),
  ) {}

  async classify(texts: string[]): Promise<ClassifiedBatch> {
    const t0 = this.now();
    const encodings = texts.map((text) => this.tokenizer.encode(text));
    const width = Math.max(...encodings.map((e) => e.ids.length));
    const size = texts.length * width;
    const ids = new BigInt64Array(size).fill(BigInt(this.tokenizer.padId));
    const mask = new BigInt64Array(size);
    encodings.forEach((e, row) => {
      e.ids.forEach((id, col) => {
        ids[row * width + col] = BigInt(id);
        mask[row * width + col] = 1n;
      });
    });
    const shape = [texts.length, width];
    const feeds: Record<string, OrtTensorLike> = {
      input_ids: this.createTensor('int64', ids, shape),
      attention_mask: this.createTensor('int64', mask, shape),
    };
    if (this.session.inputNames.includes('token_type_ids')) {
      feeds.token_type_ids = this.createTensor('int64', new BigInt64Array(size), shape);
    }
    const t1 = this.now();
    const outputs = await this.session.run(feeds);
    const t2 = this.now();
    const logits = outputs.logits;
    if (!logits || !(logits.data instanceof Float32Array)) throw new Error('the model has no float32 "logits" output');
    const classes = logits.dims[1] ?? 0;
    if (classes !== this.labels.length) throw new Error(`the model gives ${classes} logits for ${this.labels.length} labels`);
    return {
      logits: encodings.map((_, row) => (logits.data as Float32Array).slice(row * classes, (row + 1) * classes)),
      tokenCounts: encodings.map((e) => e.ids.length),
      truncated: encodings.map((e) => e.truncated),
      tokenizeMs: t1 - t0,
      inferenceMs: t2 - t1,
    };
  }
}
