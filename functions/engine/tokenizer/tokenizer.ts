/**
 * What every tokenizer of a model folder offers, whatever its algorithm (WordPiece for BERT encoders, byte-fallback
 * BPE for Llama decoders): text to the ids a model takes, its special tokens included and cut to a length, and back
 * to text where the algorithm allows it. auto-tokenizer.ts picks the implementation from tokenizer.json.
 */
export type TokenizerType = 'WordPiece' | 'BPE';

export interface Encoding {
  /** The ids the model takes, special tokens included, at most maxLength of them. */
  ids: number[];
  /** True when ids were dropped to fit maxLength. */
  truncated: boolean;
}

export interface TokenizeOptions {
  /** The most ids to keep; by default the tokenizer's own limit (WordPiece: the model's), none for BPE. */
  maxLength?: number;
}

export interface Tokenizer {
  readonly type: TokenizerType;
  tokenize(text: string, options?: TokenizeOptions): Encoding;
  /** Text of ids; absent where pieces cannot be joined back to the text (WordPiece here). */
  decode?(ids: number[]): string;
}
