/**
 * The default model's classifier, telling once when its first classification has been answered: the Node server
 * then starts making the deferred sessions (deferred-sessions.ts), which a timer alone would start while a slow
 * first request (a busy machine) still waits, making it wait longer.
 */
import type { ClassifiedText, ClassifyOptions, TextClassifier } from '../tasks/text-classifier.js';

export class AfterFirstAnswer implements TextClassifier {
  readonly readsWhole?: (text: string) => boolean;
  readonly countTokens?: (texts: string[]) => number[];
  private answered = false;

  constructor(private readonly inner: TextClassifier, private readonly then: () => void) {
    if (inner.readsWhole) this.readsWhole = (text) => inner.readsWhole!(text);
    if (inner.countTokens) this.countTokens = (texts) => inner.countTokens!(texts);
  }

  get labels(): string[] {
    return this.inner.labels;
  }

  async classify(texts: string[], options?: ClassifyOptions): Promise<ClassifiedText[]> {
    try {
      return await this.inner.classify(texts, options);
    } finally {
      if (!this.answered) {
        this.answered = true;
        // After the route has written its answer (this resolves before the response is sent).
        setTimeout(this.then, 0);
      }
    }
  }
}
