/**
 * A tenant model as a TextClassifier: the shared encoder's pooled features, then the tenant's linear head. The
 * encoder batches every tenant's texts together (its own micro-batcher); the head is a few thousand multiply-adds.
 */
import type { ClassifiedText, ClassifyOptions, TextClassifier } from '../../engine/tasks/text-classifier.js';
import type { TextEmbedder } from '../../engine/tasks/text-embedder.js';
import { headLogits, type ClassifierHead } from '../trainer/classifier-head.js';

export class HeadClassifier implements TextClassifier {
  constructor(private readonly head: ClassifierHead, private readonly embedder: TextEmbedder) {
    if (head.dimensions !== embedder.dimensions) {
      throw new RangeError(`the head of ${head.base} reads ${head.dimensions} features; its encoder gives ${embedder.dimensions}`);
    }
  }

  get labels(): string[] {
    return this.head.labels;
  }

  /** What the decoded head holds in memory (its weights and biases). */
  get bytes(): number {
    return this.head.weights.byteLength + this.head.bias.byteLength;
  }

  /** All its windows' tokens: what the encoder reads past the entry's max_tokens, so that admission reserves it. */
  countTokens(texts: string[]): number[] {
    return this.embedder.countTokens(texts);
  }

  readsWhole(text: string): boolean {
    return this.embedder.readsWhole?.(text) ?? true;
  }

  async classify(texts: string[], options: ClassifyOptions = {}): Promise<ClassifiedText[]> {
    const started = performance.now();
    const embedded = await this.embedder.embed(texts, options);
    const results = embedded.map((e) => ({ logits: headLogits(this.head, e.vector), tokens: e.tokens, truncated: e.truncated }));
    // The embedder reports no tokenize/inference split: the whole call (its queue wait included) counts as inference.
    const inferenceMs = performance.now() - started;
    return results.map((r) => ({ ...r, tokenizeMs: 0, inferenceMs }));
  }
}
