/** One model's classifier behind a micro-batcher: concurrent requests share session.run calls. */
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

  constructor(readonly classifier: SequenceClassifier, options: MicroBatcherOptions) {
    this.batcher = new MicroBatcher(async (texts) => {
      const out = await classifier.classify(texts);
      return texts.map((_, i) => ({
        logits: out.logits[i]!,
        tokens: out.tokenCounts[i]!,
        truncated: out.truncated[i]!,
        tokenizeMs: out.tokenizeMs,
        inferenceMs: out.inferenceMs,
      }));
    }, options);
  }

  get labels(): string[] {
    return this.classifier.labels;
  }

  /** Sizes of the batches run so far. */
  get batchSizes(): readonly number[] {
    return this.batcher.batchSizes;
  }

  classify(texts: string[]): Promise<(TextResult & BatchTiming)[]> {
    return this.batcher.submit(texts);
  }
}
