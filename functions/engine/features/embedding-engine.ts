/**
 * The local TextEmbedder: one encoder's FeatureExtractor behind a micro-batcher, so that concurrent callers share
 * session.run calls, as ClassificationEngine does for a classifier. A call of more texts than one batch (a trainer
 * reading its whole file) is queued one batch at a time: it never fills the queue past its bound, other callers'
 * requests join its batches instead of waiting behind all of it, and a signal that fires stops it: between two
 * batches, or while its batch waits in the queue (MicroBatcher drops it); a batch that started runs on.
 * `batchAcrossRequests: false` runs each call's batches in the caller's turn (Workers).
 */
import { MicroBatcher, type MicroBatcherOptions } from '../classification/micro-batcher.js';
import type { EmbeddedText, EmbedOptions, TextEmbedder } from '../tasks/text-embedder.js';
import type { FeatureExtractor } from './feature-extractor.js';

export interface EmbeddingEngineOptions {
  batching: MicroBatcherOptions;
  /** false: each call's texts run as their own batches, in the caller's turn (Workers); default true. */
  batchAcrossRequests?: boolean;
}

export class EmbeddingEngine implements TextEmbedder {
  private readonly batcher: MicroBatcher<string, EmbeddedText>;
  private readonly batchAcrossRequests: boolean;
  private readonly batchSize: number;

  constructor(private readonly extractor: FeatureExtractor, options: EmbeddingEngineOptions) {
    this.batcher = new MicroBatcher((texts) => this.run(texts), options.batching);
    this.batchAcrossRequests = options.batchAcrossRequests ?? true;
    this.batchSize = options.batching.maxBatchSize;
  }

  get dimensions(): number {
    return this.extractor.dimensions;
  }

  countTokens(texts: string[]): number[] {
    return this.extractor.countTokens(texts);
  }

  readsWhole(text: string): boolean {
    return this.extractor.readsWhole(text);
  }

  async embed(texts: string[], options: EmbedOptions = {}): Promise<EmbeddedText[]> {
    const { signal } = options;
    const results: EmbeddedText[] = [];
    signal?.throwIfAborted();
    for (let start = 0; start < texts.length; start += this.batchSize) {
      if (start > 0) signal?.throwIfAborted();
      const batch = texts.slice(start, start + this.batchSize);
      results.push(...(this.batchAcrossRequests ? await this.batcher.submit(batch, signal) : await this.run(batch)));
    }
    return results;
  }

  private async run(texts: string[]): Promise<EmbeddedText[]> {
    const out = await this.extractor.extract(texts);
    return texts.map((_, i) => ({ vector: out.vectors[i]!, tokens: out.tokenCounts[i]!, windows: out.windows[i]!, truncated: out.truncated[i]! }));
  }
}
