/**
 * One model's classifier behind a micro-batcher: concurrent requests share session.run calls. Where a runtime ties
 * work to the request that started it (Workers: a request waiting on a batch another request runs is taken for
 * hung), `batchAcrossRequests: false` runs each request's texts as their own batch, in the caller's turn.
 */
import { MicroBatcher, type MicroBatcherOptions } from './micro-batcher.js';
import type { SequenceClassifier } from './sequence-classifier.js';

export interface TextResult {
  logits: Float32Array;
  tokens: number;
  truncated: boolean;
}

export interface BatchTiming {
  tokenizeMs: number;
  inferenceMs: number;
}

export class ClassificationEngine {
  private readonly batcher: MicroBatcher<string, TextResult & BatchTiming>;

  constructor(readonly classifier: SequenceClassifier, options: MicroBatcherOptions, private readonly batchAcrossRequests = true) {
    this.batcher = new MicroBatcher((texts) => this.run(texts), options);
  }

  private async run(texts: string[]): Promise<(TextResult & BatchTiming)[]> {
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

  /** Sizes of the batches run so far. */
  get batchSizes(): readonly number[] {
    return this.batcher.batchSizes;
  }

  classify(texts: string[]): Promise<(TextResult & BatchTiming)[]> {
    if (!this.batchAcrossRequests) return this.run(texts);
    return this.batcher.submit(texts);
  }
}
