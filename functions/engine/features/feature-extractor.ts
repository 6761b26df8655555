/**
 * Runs a BERT-family encoder as a feature extractor: each text read in windows (token-windows.ts), every window of
 * the batch grouped by length and padded like the sequence classifier's rows, session.run, masked mean pooling of
 * last_hidden_state, and one vector per text, its windows averaged by token count. The ONNX runtime is injected.
 */
import { groupByLength, runsOf, SequenceClassifier, type PaddingTokenizer, type TensorFactory } from '../classification/sequence-classifier.js';
import { paddedFeeds } from '../bert-feeds.js';
import type { OrtSessionLike } from '../ort-types.js';
import { meanPool, weightedMean } from './mean-pooling.js';
import { windowsOf, type TextWindows, type WindowTokenizer } from './token-windows.js';

export interface FeatureExtractorOptions {
  session: OrtSessionLike;
  tokenizer: PaddingTokenizer & WindowTokenizer;
  createTensor: TensorFactory;
  /** Ids per window, [CLS] and [SEP] included: the model's input length. */
  maxLength: number;
  /** Width of last_hidden_state. */
  dimensions: number;
  /** Windows read per text at most; the rest of a longer text is dropped and reported (default 16). */
  maxWindows?: number;
  /**
   * Padded ids one session.run may hold (default 8,192: 64 windows of 128, 16 of 512), so that a batch of long texts
   * runs in several calls instead of one whose attention scores outgrow the memory (width² per row and head).
   */
  maxRunTokens?: number;
  now?: () => number;
  /** One session.run of `rows` windows padded to `width` ids took `ms` (observers must not throw). */
  onRun?: (rows: number, width: number, ms: number) => void;
  /** Each window in a session.run of its own (loading/batch-dependence.ts). */
  oneWindowPerRun?: boolean;
}

export interface ExtractedBatch {
  /** One vector per input text. */
  vectors: Float32Array[];
  /** Ids the model saw per text, over all its windows, special tokens included. */
  tokenCounts: number[];
  windows: number[];
  truncated: boolean[];
  tokenizeMs: number;
  inferenceMs: number;
}

export const DEFAULT_MAX_WINDOWS = 16;
const DEFAULT_MAX_RUN_TOKENS = 8 * 1024;

export class FeatureExtractor {
  readonly dimensions: number;
  readonly maxLength: number;
  readonly maxWindows: number;
  private readonly session: OrtSessionLike;
  private readonly tokenizer: FeatureExtractorOptions['tokenizer'];
  private readonly createTensor: TensorFactory;
  private readonly maxRunTokens: number;
  private readonly maxRowsPerRun: number;
  private readonly now: () => number;
  private readonly onRun: FeatureExtractorOptions['onRun'];

  constructor(options: FeatureExtractorOptions) {
    this.session = options.session;
    this.tokenizer = options.tokenizer;
    this.createTensor = options.createTensor;
    this.maxLength = options.maxLength;
    this.dimensions = options.dimensions;
    this.maxWindows = options.maxWindows ?? DEFAULT_MAX_WINDOWS;
    this.maxRunTokens = options.maxRunTokens ?? DEFAULT_MAX_RUN_TOKENS;
    this.maxRowsPerRun = options.oneWindowPerRun ? 1 : Infinity;
    this.now = options.now ?? (() => performance.now());
    this.onRun = options.onRun;
    windowsOf(this.tokenizer, '', this.maxLength, this.maxWindows); // refuses a window length or count that cannot work
  }

  private windows(text: string): TextWindows {
    return windowsOf(this.tokenizer, text, this.maxLength, this.maxWindows);
  }

  /** Whether the text fits in maxWindows windows, so none of it is dropped (a tokenization, no session.run). */
  readsWhole(text: string): boolean {
    return !this.windows(text).truncated;
  }

  /** Ids each text costs, all windows and special tokens included: what extract() reports, without the model. */
  countTokens(texts: string[]): number[] {
    return texts.map((text) => this.windows(text).rows.reduce((sum, row) => sum + row.length, 0));
  }

  async extract(texts: string[]): Promise<ExtractedBatch> {
    const t0 = this.now();
    const perText = texts.map((text) => this.windows(text));
    const tokenizeMs = this.now() - t0;
    const rows = perText.flatMap((w) => w.rows);
    const lengths = rows.map((row) => row.length);
    const pooled: Float32Array[] = new Array(rows.length);
    let inferenceMs = 0;
    for (const group of groupByLength(lengths, SequenceClassifier.MAX_PADDING)) {
      for (const run of runsOf(group, lengths, this.maxRunTokens, this.maxRowsPerRun)) {
        const t1 = this.now();
        const vectors = await this.run(run.map((i) => rows[i]!));
        inferenceMs += this.now() - t1;
        run.forEach((i, r) => (pooled[i] = vectors[r]!));
      }
    }
    const vectors: Float32Array[] = [];
    let first = 0;
    for (const { rows: windows } of perText) {
      vectors.push(weightedMean(pooled.slice(first, first + windows.length), windows.map((row) => row.length)));
      first += windows.length;
    }
    return {
      vectors,
      tokenCounts: perText.map((w) => w.rows.reduce((sum, row) => sum + row.length, 0)),
      windows: perText.map((w) => w.rows.length),
      truncated: perText.map((w) => w.truncated),
      tokenizeMs,
      inferenceMs,
    };
  }

  /** One session.run over id rows padded to the longest; one pooled vector per row. */
  private async run(rows: number[][]): Promise<Float32Array[]> {
    const { feeds, width } = paddedFeeds(rows, this.tokenizer.padId, this.session, this.createTensor);
    const started = this.now();
    const outputs = await this.session.run(feeds);
    this.onRun?.(rows.length, width, this.now() - started);
    const hidden = outputs.last_hidden_state;
    if (!hidden || !(hidden.data instanceof Float32Array)) throw new Error('the model has no float32 "last_hidden_state" output');
    if (hidden.dims.length !== 3 || hidden.dims[2] !== this.dimensions) {
      throw new Error(`last_hidden_state has dims [${hidden.dims.join(', ')}]; [rows, width, ${this.dimensions}] expected`);
    }
    return meanPool(hidden.data, width, this.dimensions, rows.map((r) => r.length));
  }
}
