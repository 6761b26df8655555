/**
 * AutoTokenizer: a model folder's tokenizer, the implementation chosen by tokenizer.json's model.type: WordPiece
 * (BERT encoders; a file old enough to name no type, with a vocabulary and no merges, is WordPiece too) or BPE
 * (byte-fallback, Llama style). A caller that can use only some kinds says which (`accept`) and gets that class back.
 */
import { BpeTokenizer } from './bpe-tokenizer.js';
import type { TokenizerType } from './tokenizer.js';
import { TokenizerFormatError } from './tokenizer-json.js';
import { WordPieceTokenizer } from './wordpiece-tokenizer.js';

export type AnyTokenizer = WordPieceTokenizer | BpeTokenizer;
export type TokenizerOf<T extends TokenizerType> = Extract<AnyTokenizer, { type: T }>;

export interface AutoTokenizerOptions<T extends TokenizerType> {
  /** The kinds the caller can use (default: all); a file of another kind is refused with a TokenizerFormatError. */
  accept?: readonly T[];
  /** WordPiece: the most ids an encoding keeps, the model's input length (default 512, BERT's). */
  maxLength?: number;
}

const DEFAULT_MAX_LENGTH = 512;

const BUILDERS: { [T in TokenizerType]: (json: unknown, maxLength: number) => TokenizerOf<T> } = {
  WordPiece: (json, maxLength) => WordPieceTokenizer.fromJson(json, maxLength),
  BPE: (json) => BpeTokenizer.fromJson(json),
};

/** The kind tokenizer.json declares; undefined when it has no model section or names a kind not built here. */
export function tokenizerTypeOf(value: unknown): TokenizerType | undefined {
  const model = (value as { model?: { type?: unknown; merges?: unknown } | null } | null)?.model;
  if (typeof model !== 'object' || model === null) return undefined;
  if (model.type === 'BPE') return 'BPE';
  if (model.type === 'WordPiece' || (model.type === undefined && model.merges === undefined)) return 'WordPiece';
  return undefined;
}

export function autoTokenizer<T extends TokenizerType = TokenizerType>(value: unknown, options: AutoTokenizerOptions<T> = {}): TokenizerOf<T> {
  const accepted: readonly TokenizerType[] = options.accept ?? (Object.keys(BUILDERS) as TokenizerType[]);
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  const type = tokenizerTypeOf(value);
  if (type !== undefined && accepted.includes(type)) return BUILDERS[type](value, maxLength) as TokenizerOf<T>;
  // One kind accepted: its parser says best why the file is not of that kind.
  if (accepted.length === 1) return BUILDERS[accepted[0]!](value, maxLength) as TokenizerOf<T>;
  const declared = (value as { model?: { type?: unknown } } | null)?.model?.type;
  throw new TokenizerFormatError(`tokenizer.json model type "${String(declared)}" is not supported (${accepted.join(' or ')} only)`);
}
