/** The subset of Hugging Face's tokenizer.json that BERT-family WordPiece tokenizers use. */
export interface TokenizerJson {
  added_tokens?: { id: number; content: string; special?: boolean }[];
  normalizer?: {
    type: string;
    clean_text?: boolean;
    handle_chinese_chars?: boolean;
    strip_accents?: boolean | null;
    lowercase?: boolean;
  } | null;
  pre_tokenizer?: { type: string } | null;
  model: {
    /** Older tokenizer.json files omit the type; a vocab map without merges is then WordPiece. */
    type?: string;
    merges?: unknown;
    unk_token?: string;
    continuing_subword_prefix?: string;
    max_input_chars_per_word?: number;
    vocab: Record<string, number>;
  };
}

export class TokenizerFormatError extends Error {
  override name = 'TokenizerFormatError';
}

export function parseTokenizerJson(value: unknown): TokenizerJson {
  const json = value as TokenizerJson;
  if (typeof json !== 'object' || json === null || typeof json.model !== 'object' || json.model === null) {
    throw new TokenizerFormatError('tokenizer.json has no "model" section');
  }
  const wordPiece = json.model.type === 'WordPiece' || (json.model.type === undefined && json.model.merges === undefined);
  if (!wordPiece) {
    throw new TokenizerFormatError(`tokenizer.json model type "${json.model.type}" is not supported (WordPiece only)`);
  }
  if (typeof json.model.vocab !== 'object' || json.model.vocab === null) {
    throw new TokenizerFormatError('tokenizer.json WordPiece model has no vocab');
  }
  if (json.normalizer && json.normalizer.type !== 'BertNormalizer') {
    throw new TokenizerFormatError(`normalizer "${json.normalizer.type}" is not supported (BertNormalizer only)`);
  }
  if (json.pre_tokenizer && json.pre_tokenizer.type !== 'BertPreTokenizer') {
    throw new TokenizerFormatError(`pre-tokenizer "${json.pre_tokenizer.type}" is not supported (BertPreTokenizer only)`);
  }
  return json;
}
