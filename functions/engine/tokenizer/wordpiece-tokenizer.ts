/** A BERT WordPiece tokenizer built from tokenizer.json, giving the same ids as transformers.js: [CLS] pieces [SEP]. */
import { normalizeBert, type BertNormalizerOptions } from './bert-normalizer.js';
import { preTokenizeBert } from './bert-pre-tokenizer.js';
import { textWindows } from './text-windows.js';
import type { Encoding, TokenizeOptions, Tokenizer } from './tokenizer.js';
import { parseTokenizerJson, TokenizerFormatError } from './tokenizer-json.js';

interface WordPieceParts {
  vocab: Map<string, number>;
  normalizer: BertNormalizerOptions | null;
  /** Marks a piece that continues a word ("##"). */
  prefix: string;
  maxCharsPerWord: number;
  maxLength: number;
  unkToken: string;
}

export class WordPieceTokenizer implements Tokenizer {
  readonly type = 'WordPiece';
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly maxLength: number;
  private readonly vocab: Map<string, number>;
  private readonly normalizer: BertNormalizerOptions | null;
  private readonly prefix: string;
  private readonly maxCharsPerWord: number;
  private readonly cache = new Map<string, number[]>();

  private constructor(parts: WordPieceParts) {
    this.vocab = parts.vocab;
    this.normalizer = parts.normalizer;
    this.prefix = parts.prefix;
    this.maxCharsPerWord = parts.maxCharsPerWord;
    this.maxLength = parts.maxLength;
    const id = (token: string): number => {
      const found = this.vocab.get(token);
      if (found === undefined) throw new TokenizerFormatError(`vocabulary lacks the special token ${token}`);
      return found;
    };
    this.unkId = id(parts.unkToken);
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
    return new WordPieceTokenizer({
      vocab,
      normalizer,
      prefix: json.model.continuing_subword_prefix ?? '##',
      maxCharsPerWord: json.model.max_input_chars_per_word ?? 100,
      maxLength,
      unkToken: json.model.unk_token ?? '[UNK]',
    });
  }

  /** Reads the text window by window and stops once maxLength is filled: the cost is bounded by what is kept. */
  tokenize(text: string, { maxLength = this.maxLength }: TokenizeOptions = {}): Encoding {
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
