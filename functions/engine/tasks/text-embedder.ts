/**
 * The feature-extraction task as one small interface: a pretrained encoder turns texts into fixed-size vectors (the
 * features that fine-tuned heads are trained on and served over). The local ONNX engine (features/) implements it.
 * A text longer than the model's window is read in windows and their vectors averaged, so no text is cut.
 */
export interface EmbeddedText {
  /** `dimensions` numbers: the pooled last hidden state. */
  vector: Float32Array;
  /** Tokens the model saw over all windows, special tokens included. */
  tokens: number;
  /** Windows the text was read in (1 for a text that fits). */
  windows: number;
  /** True when the text needed more windows than the encoder reads (maxWindows): the rest was dropped. */
  truncated: boolean;
}

export interface EmbedOptions {
  /** The caller gave up: its texts still queued are dropped and the call rejects with the signal's reason at once; a batch that started runs on (its results are dropped). */
  signal?: AbortSignal;
}

export interface TextEmbedder {
  readonly dimensions: number;
  /** Tokens each text costs to embed (all its windows, special tokens included), without running the model. */
  countTokens(texts: string[]): number[];
  /** One result per text, in order. */
  embed(texts: string[], options?: EmbedOptions): Promise<EmbeddedText[]>;
  /** Whether the encoder reads all of `text` (false: it needs more windows than it reads), without running it. */
  readsWhole?(text: string): boolean;
}
