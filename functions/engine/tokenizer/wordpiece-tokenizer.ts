import { normalizeBert, type BertNormalizerOptions } from './bert-normalizer.js';
import { preTokenizeBert } from './bert-pre-tokenizer.js';
import { textWindows } from './text-windows.js';
import { parseTokenizerJson, TokenizerFormatError } from './tokenizer-json.js';

export interface Encoding {
  /** [CLS] pieces [SEP], at most maxLength ids. */
  ids: number[];
  /** True when pieces were dropped to fit maxLength. */
  truncated: boolean;
}

/** A BERT WordPiece tokenizer built from tokenizer.json, giving the same ids as transformers.js. */
export class WordPieceTokenizer {
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  private readonly cache = new Map<string, number[]>();

  private constructor(
    private readonly vocab: Map<string, number>,
    private readonly normalizer: BertNormalizerOptions | null,
    private readonly prefix: string,
    private readonly maxCharsPerWord: number,
    readonly maxLength: number,
    unkToken: string,
  ) {
    const id = (token: string): number => {
      const found = vocab.get(token);
      if (found === undefined) throw new TokenizerFormatError(`vocabulary lacks the special token ${token}`);
      return found;
    };
    this.unkId = id(unkToken);
    this.clsId = id('[CLS]');
    this.sepId = id('[SEP]');
    this.padId = id('[PAD]');
  }

  static fromJson(value: unknown, maxLength: number): WordPieceTokenizer {
    const json = parseTokenizerJson(value);
    const vocab = new Map(Object.entries(json.model.vocab));
    for (const added of json.added_tokens ?? []) vocab.set(added.content, added.id);
    const n = json.normalizer;
    const normalizer = n
      ? {
          cleanText: n.clean_text ?? true,
          handleChineseChars: n.handle_chinese_chars ?? true,
          lowercase: n.lowercase ?? true,
          stripAccents: n.strip_accents ?? n.lowercase ?? true,
        }
      : null;
    return new WordPieceTokenizer(
      vocab,
      normalizer,
      json.model.continuing_subword_prefix ?? '##',
      json.model.max_input_chars_per_word ?? 100,
      maxLength,
      json.model.unk_token ?? '[UNK]',
    );
  }

  /** Reads the text window by window and stops once maxLength is filled: the cost is bounded by what is kept. */
  encode(text: string, maxLength = this.maxLength): Encoding {
    const ids = [this.clsId];
    const budget = maxLength - 1;
    let truncated = false;
    windows: for (const window of textWindows(text)) {
      const normalized = this.normalizer ? normalizeBert(window, this.normalizer) : window;
      for (const word of preTokenizeBert(normalized)) {
        const pieces = this.wordIds(word);
        if (ids.length + pieces.length > budget) {
          for (let i = 0; ids.length < budget; i++) ids.push(pieces[i]!);
          truncated = true;
          break windows;
        }
        for (const piece of pieces) ids.push(piece);
      }
    }
    ids.push(this.sepId);
    return { ids, truncated };
  }

  private wordIds(word: string): number[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    const pieces = this.segment(word);
    if (this.cache.size < 50_000) this.cache.set(word, pieces);
    return pieces;
  }

  /** Greedy longest-match-first segmentation; a word with an unknown part is one [UNK]. */
  private segment(word: string): number[] {
    const chars = Array.from(word);
    if (chars.length > this.maxCharsPerWord) return [this.unkId];
    const pieces: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: number | undefined;
      while (start < end) {
        const piece = (start > 0 ? this.prefix : '') + chars.slice(start, end).join('');
        found = this.vocab.get(piece);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) return [this.unkId];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }
}
