/**
 * The text-classification task as one small interface (the Vercel AI SDK's provider idea): the local ONNX engine
 * (classification/classification-engine.ts) implements it, and a remote classifier could. What the routes need:
 * the model's labels and, per text, its logits, its token count and whether it was cut to the model's length, with
 * the timings of the batch it ran in. An overloaded classifier refuses with QueueFullError (tasks/queue-full-error.ts).
 */
export interface TextResult {
  /** One logit per label, in the order of `labels`. */
  logits: Float32Array;
  /** Tokens the model saw, special tokens included. */
  tokens: number;
  truncated: boolean;
}

/** The timings of the batch a text ran in (shared by its texts). */
export interface BatchTiming {
  tokenizeMs: number;
  inferenceMs: number;
}

export type ClassifiedText = TextResult & BatchTiming;

export interface ClassifyOptions {
  /** The caller gave up: its texts still queued are dropped and the call rejects with the signal's reason at once; a batch that started runs on (its results are dropped). */
  signal?: AbortSignal;
}

export interface TextClassifier {
  readonly labels: string[];
  /** One result per text, in order. */
  classify(texts: string[], options?: ClassifyOptions): Promise<ClassifiedText[]>;
  /** Whether the model reads all of `text` (false: it would truncate it), without running the model; absent: always. */
  readsWhole?(text: string): boolean;
  /** The tokens classify() will report for each text, without running the model (admission's exact estimate). */
  countTokens?(texts: string[]): number[];
}
