/**
 * Runs a BERT-family sequence classifier: tokenize, group texts by length, pad each group, session.run (a group of
 * more than maxRunTokens padded tokens in several), logits.
 * The ONNX runtime is injected (onnxruntime-web or onnxruntime-node share this API), so this runs anywhere.
 */
import { paddedFeeds, type TensorFactory } from '../bert-feeds.js';
import type { OrtSessionLike, OrtTensorLike } from '../ort-types.js';
import type { Encoding, Tokenizer } from '../tokenizer/tokenizer.js';

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
  /**
   * Padded tokens (rows x width) one session.run may hold; a larger group of texts runs in several calls (default
   * DEFAULT_MAX_RUN_TOKENS). onnxruntime-web's WebAssembly memory grows to fit the largest run's activations and
   * never shrinks: in a Workers isolate (128 MB) one [64, 128] run grows it to 83 MiB.
   */
  maxRunTokens?: number;
  /** One session.run of `rows` texts padded to `width` tokens took `ms` (observers must not throw). */
  onRun?: (rows: number, width: number, ms: number) => void;
  /** Each text in a session.run of its own (loading/batch-dependence.ts). */
  oneTextPerRun?: boolean;
}

/**
 * The cap on one session.run: 16 texts of 128 tokens. Measured in workerd (bench:worker, issue 21 item 8): one
 * 64 x 128 request as one run grows the WebAssembly memory to 83 MiB, as runs of 16 x 128 to about 40 MiB. It costs
 * Node nothing either (64 texts of 128 tokens, int8 sst2-bert, one thread, loaded machine: onnxruntime-node 849 ms
 * capped vs 984 uncapped, median of 5; onnxruntime-web 2,600 vs 2,839, median of 3), so it is every runtime's default.
 */
export const DEFAULT_MAX_RUN_TOKENS = 2 * 1024;

/** Splits a group of rows, shortest first, into runs of at most `budget` padded ids and `maxRows` rows (one row at least). */
export function runsOf(group: number[], lengths: number[], budget: number, maxRows = Infinity): number[][] {
  if (!(budget > 0)) throw new RangeError(`maxRunTokens must be positive: ${budget}`);
  const runs: number[][] = [];
  let run: number[] = [];
  for (const i of group) {
    if (run.length > 0 && ((run.length + 1) * lengths[i]! > budget || run.length >= maxRows)) {
      runs.push(run);
      run = [];
    }
    run.push(i);
  }
  if (run.length > 0) runs.push(run);
  return runs;
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

/**
 * Encodings made by countTokens, each waiting for the classify() of its text. Bounded in entries and text length: a
 * request refused between the two (overloaded, over its budget) leaves its entry behind until the map fills, when
 * every entry goes; a miss only costs a tokenization.
 */
class CountedEncodings {
  static readonly MAX_ENTRIES = 1024;
  static readonly MAX_TEXT_CHARS = 2048;
  private readonly map = new Map<string, Encoding>();

  keep(text: string, encoding: Encoding): void {
    if (text.length > CountedEncodings.MAX_TEXT_CHARS) return;
    if (this.map.size >= CountedEncodings.MAX_ENTRIES) this.map.clear();
    this.map.set(text, encoding);
  }

  take(text: string): Encoding | undefined {
    const encoding = this.map.get(text);
    if (encoding) this.map.delete(text);
    return encoding;
  }
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
  private readonly maxRunTokens: number;
  private readonly maxRowsPerRun: number;
  private readonly counted = new CountedEncodings();

  constructor(options: SequenceClassifierOptions) {
    this.session = options.session;
    this.tokenizer = options.tokenizer;
    this.createTensor = options.createTensor;
    this.labels = options.labels;
    this.onRun = options.onRun;
    this.maxRunTokens = options.maxRunTokens ?? DEFAULT_MAX_RUN_TOKENS;
    if (!(this.maxRunTokens > 0)) throw new RangeError(`maxRunTokens must be positive: ${options.maxRunTokens}`);
    this.maxRowsPerRun = options.oneTextPerRun ? 1 : Infinity;
    this.now = options.now ?? (() => performance.now());
  }

  /** Whether the text fits the model's length, so none of it is cut (a tokenization, no session.run). */
  readsWhole(text: string): boolean {
    return !this.tokenizer.tokenize(text).truncated;
  }

  /**
   * Ids each text becomes, [CLS] and [SEP] included, as classify() reports them (tokenizations, no session.run).
   * The encodings are kept for the classify() of the same texts that follows (the route counts a request's tokens
   * for admission, then classifies it), so that a request is tokenized once.
   */
  countTokens(texts: string[]): number[] {
    return texts.map((text) => {
      const encoding = this.tokenizer.tokenize(text);
      this.counted.keep(text, encoding);
      return encoding.ids.length;
    });
  }

  async classify(texts: string[]): Promise<ClassifiedBatch> {
    const t0 = this.now();
    const encodings = texts.map((text) => this.counted.take(text) ?? this.tokenizer.tokenize(text));
    const tokenizeMs = this.now() - t0;
    const logits: Float32Array[] = new Array(texts.length);
    let inferenceMs = 0;
    const lengths = encodings.map((e) => e.ids.length);
    for (const group of groupByLength(lengths, SequenceClassifier.MAX_PADDING)) {
      for (const run of runsOf(group, lengths, this.maxRunTokens, this.maxRowsPerRun)) {
        const t1 = this.now();
        const rows = await this.run(run.map((i) => encodings[i]!.ids));
        inferenceMs += this.now() - t1;
        run.forEach((i, row) => (logits[i] = rows[row]!));
      }
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
