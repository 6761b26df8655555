/**
 * The local TextClassifier: one model's SequenceClassifier behind a micro-batcher, so concurrent requests share
 * session.run calls. Where a runtime ties work to the request that started it (Workers: a request waiting on a
 * batch another request runs is taken for hung), `batchAcrossRequests: false` runs each request's texts as their
 * own batch, in the caller's turn.
 *
 * A caller's signal (it gave up: its client disconnected) drops its texts still queued, and rejects its call at once
 * (MicroBatcher); a batch that started runs on. Without cross-request batching the signal is read once, before the
 * call's texts run as one batch.
 *
 * The batcher weighs each text by its length in characters, up to what the model reads (`maxTokens`), plus its
 * [CLS] and [SEP]: the run time follows the tokens (SequenceClassifier groups texts by length), and a count of
 * texts would price 64 short texts like 64 long ones. Characters, not tokens: the plain path tokenizes once, in
 * the batch, and this must not add a tokenization to it.
 */
import type { ClassifiedText, ClassifyOptions, TextClassifier } from '../tasks/text-classifier.js';
import { MicroBatcher, type MicroBatcherOptions } from './micro-batcher.js';
import type { SequenceClassifier } from './sequence-classifier.js';

export interface ClassificationEngineOptions {
  batching: MicroBatcherOptions;
  /** The model's max_tokens: the longest text the weight counts (default 512). */
  maxTokens?: number;
  /** false: each request's texts run as their own batch, in the caller's turn (Workers); default true. */
  batchAcrossRequests?: boolean;
}

/** A generous ceiling on characters per WordPiece token, so that a text cut at maxTokens is weighed whole. */
const CHARS_PER_TOKEN = 6;
/** [CLS] and [SEP], in characters of an average word piece. */
const SPECIAL_TOKENS_CHARS = 8;
const DEFAULT_MAX_TOKENS = 512;

/** What the batcher weighs a text at: a cheap stand-in for its tokens, without tokenizing. */
export const textWeight = (maxTokens: number) => (text: string): number =>
  Math.min(text.length, maxTokens * CHARS_PER_TOKEN) + SPECIAL_TOKENS_CHARS;

export class ClassificationEngine implements TextClassifier {
  private readonly batcher: MicroBatcher<string, ClassifiedText>;
  private readonly batchAcrossRequests: boolean;

  constructor(private readonly classifier: SequenceClassifier, options: ClassificationEngineOptions) {
    const weight = options.batching.weight ?? textWeight(options.maxTokens ?? DEFAULT_MAX_TOKENS);
    this.batcher = new MicroBatcher((texts) => this.run(texts), { ...options.batching, weight });
    this.batchAcrossRequests = options.batchAcrossRequests ?? true;
  }

  private async run(texts: string[]): Promise<ClassifiedText[]> {
    const out = await this.classifier.classify(texts);
    return texts.map((_, i) => ({
      logits: out.logits[i]!,
      tokens: out.tokenCounts[i]!,
      truncated: out.truncated[i]!,
      tokenizeMs: out.tokenizeMs,
      inferenceMs: out.inferenceMs,
    }));
  }

  get labels(): string[] {
    return this.classifier.labels;
  }

  readsWhole(text: string): boolean {
    return this.classifier.readsWhole(text);
  }

  countTokens(texts: string[]): number[] {
    return this.classifier.countTokens(texts);
  }

  classify(texts: string[], options: ClassifyOptions = {}): Promise<ClassifiedText[]> {
    const { signal } = options;
    if (this.batchAcrossRequests) return this.batcher.submit(texts, signal);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return this.run(texts);
  }
}
