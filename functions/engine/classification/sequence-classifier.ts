/**
 * Runs a BERT-family sequence classifier: tokenize, group texts by length, pad each group, session.run, logits.
 * The ONNX runtime is injected (onnxruntime-web or onnxruntime-node share this API), so this runs anywhere.
 */
import { paddedFeeds, type TensorFactory } from '../bert-feeds.js';
import type { OrtSessionLike, OrtTensorLike } from '../ort-types.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';

export type { OrtSessionLike, OrtTensorLike };

export type { TensorFactory };

/** A tokenizer whose vocabulary has a padding token (WordPiece's [PAD]): the filler of the shorter rows of a batch. */
export type PaddingTokenizer = Tokenizer & { readonly padId: number };

export interface SequenceClassifierOptions {
  session: OrtSessionLike;
  tokenizer: PaddingTokenizer;
  createTensor: TensorFactory;
  /** The model's labels, in the order of its logits. */
  labels: string[];
  now?: () => number;
  /** One session.run of `rows` texts padded to `width` tokens took `ms` (observers must not throw). */
  onRun?: (rows: number, width: number, ms: number) => void;
}

export interface ClassifiedBatch {
  /** One row of logits per input text. */
  logits: Float32Array[];
  /** Tokens per text, [CLS] and [SEP] included. */
  tokenCounts: number[];
  truncated: boolean[];
  tokenizeMs: number;
  inferenceMs: number;
}

/**
 * Splits encodings, shortest first, into groups whose padding stays under `maxPadding` of the padded tokens:
 * padding a short text to a long one costs as much as real tokens, and beats the gain of a bigger batch.
 */
export function groupByLength(lengths: number[], maxPadding: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]!);
  const groups: number[][] = [];
  let group: number[] = [];
  let tokens = 0;
  for (const i of order) {
    const width = lengths[i]!; // the longest so far, as the order is ascending
    const padded = width * (group.length + 1);
    if (group.length > 0 && padded - (tokens + width) > maxPadding * padded) {
      groups.push(group);
      group = [];
      tokens = 0;
    }
    group.push(i);
    tokens += width;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

export class SequenceClassifier {
  /** Share of padded positions a session.run may waste on padding before a batch is split by length. */
  static readonly MAX_PADDING = 0.2;
  readonly labels: string[];
  private readonly session: OrtSessionLike;
  private readonly tokenizer: PaddingTokenizer;
  private readonly createTensor: TensorFactory;
  private readonly now: () => number;
  private readonly onRun: SequenceClassifierOptions['onRun'];

  constructor(options: SequenceClassifierOptions) {
    this.session = options.session;
    this.tokenizer = options.tokenizer;
    this.createTensor = options.createTensor;
    this.labels = options.labels;
    this.onRun = options.onRun;
    this.now = options.now ?? (() => performance.now());
  }

  /** Whether the text fits the model's length, so none of it is cut (a tokenization, no session.run). */
  readsWhole(text: string): boolean {
    return !this.tokenizer.tokenize(text).truncated;
  }

  /** Ids each text becomes, [CLS] and [SEP] included, as classify() reports them (tokenizations, no session.run). */
  countTokens(texts: string[]): number[] {
    return texts.map((text) => this.tokenizer.tokenize(text).ids.length);
  }

  async classify(texts: string[]): Promise<ClassifiedBatch> {
    const t0 = this.now();
    const encodings = texts.map((text) => this.tokenizer.tokenize(text));
    const tokenizeMs = this.now() - t0;
    const logits: Float32Array[] = new Array(texts.length);
    let inferenceMs = 0;
    for (const group of groupByLength(encodings.map((e) => e.ids.length), SequenceClassifier.MAX_PADDING)) {
      const t1 = this.now();
      const rows = await this.run(group.map((i) => encodings[i]!.ids));
      inferenceMs += this.now() - t1;
      group.forEach((i, row) => (logits[i] = rows[row]!));
    }
    return {
      logits,
      tokenCounts: encodings.map((e) => e.ids.length),
      truncated: encodings.map((e) => e.truncated),
      tokenizeMs,
      inferenceMs,
    };
  }

  /** One session.run over token id rows padded to the longest; one row of logits per input row. */
  private async run(rows: number[][]): Promise<Float32Array[]> {
    const { feeds, width } = paddedFeeds(rows, this.tokenizer.padId, this.session, this.createTensor);
    const started = this.now();
    const outputs = await this.session.run(feeds);
    this.onRun?.(rows.length, width, this.now() - started);
    const logits = outputs.logits;
    if (!logits || !(logits.data instanceof Float32Array)) throw new Error('the model has no float32 "logits" output');
    const classes = logits.dims[1] ?? 0;
    if (classes !== this.labels.length) throw new Error(`the model gives ${classes} logits for ${this.labels.length} labels`);
    return rows.map((_, r) => (logits.data as Float32Array).slice(r * classes, (r + 1) * classes));
  }
}
