/**
 * The local TextClassifier: one model's SequenceClassifier behind a micro-batcher, so concurrent requests share
 * session.run calls. Where a runtime ties work to the request that started it (Workers: a request waiting on a
 * batch another request runs is taken for hung), `batchAcrossRequests: false` runs each request's texts as their
 * own batch, in the caller's turn.
 *
 * A caller's signal (it gave up: its client disconnected) drops its texts still queued, and rejects its call at once
 * (MicroBatcher); a batch that started runs on. Without cross-request batching the signal is read once, before the
 * call's texts run as one batch.
 */
import type { ClassifiedText, ClassifyOptions, TextClassifier } from '../tasks/text-classifier.js';
import { MicroBatcher, type MicroBatcherOptions } from './micro-batcher.js';
import type { SequenceClassifier } from './sequence-classifier.js';

export interface ClassificationEngineOptions {
  batching: MicroBatcherOptions;
  /** false: each request's texts run as their own batch, in the caller's turn (Workers); default true. */
  batchAcrossRequests?: boolean;
}

export class ClassificationEngine implements TextClassifier {
  private readonly batcher: MicroBatcher<string, ClassifiedText>;
  private readonly batchAcrossRequests: boolean;

  constructor(private readonly classifier: SequenceClassifier, options: ClassificationEngineOptions) {
    this.batcher = new MicroBatcher((texts) => this.run(texts), options.batching);
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
