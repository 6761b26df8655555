/**
 * The Llama / SentencePiece flavour of Hugging Face's BPE tokenizer.json: spaces become "▁" and one is prepended,
 * merges apply by rank over the characters, and a symbol missing from the vocabulary falls back to its UTF-8
 * bytes (<0xNN> tokens). Special-token strings in user text are encoded as plain text, never as control tokens.
 */
import { MinHeap } from './merge-queue.js';
import type { Encoding, TokenizeOptions, Tokenizer } from './tokenizer.js';
import { TokenizerFormatError } from './tokenizer-json.js';

const SPACE = '\u2581';

interface BpeJson {
  model: { type?: string; vocab: Record<string, number>; merges: (string | [string, string])[]; byte_fallback?: boolean; unk_token?: string };
  normalizer?: { type: string; normalizers?: { type: string; prepend?: string }[] } | null;
}

/** UTF-8 length of a string without encoding it (a lone surrogate becomes the 3-byte U+FFFD, as TextEncoder writes it). */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit < 0xdc00 && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

export interface BpeParts {
  vocab: Map<string, number>;
  /** Pairs in rank order: the first merges first. */
  merges: [string, string][];
  bosId: number;
  eosId: number;
  unkId: number;
  /** Whether a "▁" goes in front of the text (a Prepend normalizer, as Llama's). */
  prependSpace: boolean;
}

/** The parts of a byte-fallback BPE tokenizer.json; throws TokenizerFormatError for any other kind, or a missing special token. */
export function bpePartsFromJson(value: unknown, special: { bos: string; eos: string; unk: string } = { bos: '<s>', eos: '</s>', unk: '<unk>' }): BpeParts {
  const json = value as BpeJson;
  if (typeof json !== 'object' || json === null || json.model?.type !== 'BPE' || !Array.isArray(json.model.merges)) {
    throw new TokenizerFormatError('tokenizer.json is not a BPE tokenizer (model.type "BPE" with merges)');
  }
  if (!json.model.byte_fallback) throw new TokenizerFormatError('only byte-fallback BPE (Llama / SentencePiece style) is supported');
  const vocab = new Map(Object.entries(json.model.vocab));
  const id = (token: string) => {
    const found = vocab.get(token);
    if (found === undefined) throw new TokenizerFormatError(`tokenizer.json has no "${token}" token`);
    return found;
  };
  const merges = json.model.merges.map((m) => (typeof m === 'string' ? (m.split(' ') as [string, string]) : m));
  const prepend = json.normalizer?.normalizers?.some((n) => n.type === 'Prepend' && n.prepend === SPACE) ?? false;
  return { vocab, merges, bosId: id(special.bos), eosId: id(special.eos), unkId: id(special.unk), prependSpace: prepend };
}

export class BpeTokenizer implements Tokenizer {
  readonly type = 'BPE';
  readonly bosId: number;
  readonly eosId: number;
  readonly unkId: number;
  private readonly vocab: Map<string, number>;
  /** Each merge pair ("a b") and its rank: the lower merges first. */
  protected readonly ranks = new Map<string, number>();
  private readonly pieces: string[] = [];
  private readonly byteIds = new Map<number, number>();
  private readonly idBytes = new Map<number, number>();
  private readonly prependSpace: boolean;
  /** UTF-8 bytes of the longest vocabulary piece (spaces as "▁"): no token covers more of the normalized text. */
  readonly maxPieceBytes: number;

  constructor({ vocab, merges, bosId, eosId, unkId, prependSpace }: BpeParts) {
    this.vocab = vocab;
    this.bosId = bosId;
    this.eosId = eosId;
    this.unkId = unkId;
    merges.forEach(([a, b], rank) => this.ranks.set(`${a} ${b}`, rank));
    for (const [piece, id] of vocab) {
      this.pieces[id] = piece;
      const byte = /^<0x([0-9A-F]{2})>$/.exec(piece);
      if (byte) {
        this.byteIds.set(parseInt(byte[1]!, 16), id);
        this.idBytes.set(id, parseInt(byte[1]!, 16));
      }
    }
    this.prependSpace = prependSpace;
    this.maxPieceBytes = Math.max(1, ...this.pieces.map((piece) => utf8Length(piece ?? '')));
  }

  static fromJson(value: unknown, special?: { bos: string; eos: string; unk: string }): BpeTokenizer {
    return new BpeTokenizer(bpePartsFromJson(value, special));
  }

  /** A token's text as the vocabulary spells it (for special tokens: "<s>", "</s>"). */
  piece(id: number): string {
    return this.pieces[id] ?? '';
  }

  get vocabSize(): number {
    return this.pieces.length;
  }

  /**
   * A lower bound on encode(text, addBos).length without tokenizing, in O(n): every token covers at most
   * maxPieceBytes bytes of the normalized text (each space becomes a 3-byte "▁", one is prepended).
   */
  minTokens(text: string, addBos = true): number {
    let bytes = utf8Length(text) + (this.prependSpace && text !== '' ? 3 : 0);
    for (let at = text.indexOf(' '); at >= 0; at = text.indexOf(' ', at + 1)) bytes += 2;
    return Math.ceil(bytes / this.maxPieceBytes) + (addBos ? 1 : 0);
  }

  encode(text: string, addBos = true): number[] {
    const normalized = (this.prependSpace && text !== '' ? SPACE : '') + text.replaceAll(' ', SPACE);
    const ids = addBos ? [this.bosId] : [];
    for (const symbol of this.merge(Array.from(normalized))) {
      const id = this.vocab.get(symbol);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      for (const byte of new TextEncoder().encode(symbol)) ids.push(this.byteIds.get(byte) ?? this.unkId);
    }
    return ids;
  }

  /** encode(text) with its BOS, cut to maxLength ids when one is given (the generation server checks prompt lengths itself). */
  tokenize(text: string, { maxLength = Infinity }: TokenizeOptions = {}): Encoding {
    const ids = this.encode(text);
    return ids.length > maxLength ? { ids: ids.slice(0, maxLength), truncated: true } : { ids, truncated: false };
  }

  /**
   * Applies merges lowest rank first, leftmost first among equal ranks, as Hugging Face's tokenizers do: symbols
   * form a linked list and candidate pairs wait in a heap, so each merge costs O(log n) instead of a rescan of all
   * pairs. A queued pair is checked when it comes up: if its left symbol's current pair no longer has that rank,
   * one of its symbols has changed since and the entry is dropped (equal rank means the same pair, as each pair
   * has one rank).
   */
  protected merge(symbols: string[]): string[] {
    const n = symbols.length;
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const rankOf = (left: number) => (left < 0 || next[left]! < 0 ? undefined : this.ranks.get(`${symbols[left]} ${symbols[next[left]!]}`));
    const queue = new MinHeap(n);
    const consider = (left: number) => {
      const rank = rankOf(left);
      if (rank !== undefined) queue.push(rank * n + left);
    };
    for (let i = 0; i + 1 < n; i++) consider(i);
    for (let key = queue.pop(); key !== undefined; key = queue.pop()) {
      const left = key % n;
      if (rankOf(left) !== (key - left) / n) continue;
      const right = next[left]!;
      symbols[left] = symbols[left]! + symbols[right]!;
      next[left] = next[right]!;
      if (next[left]! >= 0) prev[next[left]!] = left;
      next[right] = -2; // merged away: no longer in the list
      consider(prev[left]!);
      consider(left);
    }
    const merged: string[] = [];
    for (let i = n > 0 ? 0 : -1; i >= 0; i = next[i]!) merged.push(symbols[i]!);
    return merged;
  }

  /**
   * For text a chat template rendered: its special-token strings (<s>, </s>) become those tokens, and no BOS is
   * added in front (the template writes it when the model wants it), as Hugging Face's apply_chat_template does.
   */
  encodeTemplated(text: string): number[] {
    const specials = new Map([[this.pieces[this.bosId]!, this.bosId], [this.pieces[this.eosId]!, this.eosId]]);
    const pattern = new RegExp(`(${[...specials.keys()].map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`);
    return text.split(pattern).flatMap((part) => (specials.has(part) ? [specials.get(part)!] : part === '' ? [] : this.encode(part, false)));
  }

  /** The UTF-8 bytes a token stands for ("▁" as a space; special tokens as nothing). */
  tokenBytes(id: number): Uint8Array {
    const byte = this.idBytes.get(id);
    if (byte !== undefined) return Uint8Array.of(byte);
    if (id === this.bosId || id === this.eosId || id === this.unkId) return new Uint8Array(0);
    return new TextEncoder().encode((this.pieces[id] ?? '').replaceAll(SPACE, ' '));
  }

  /** Text of a token sequence; the space SentencePiece prepends is removed when `stripLeadingSpace`. */
  decode(ids: number[], stripLeadingSpace = true): string {
    const decoder = new TextDecoder();
    const text = ids.map((id) => decoder.decode(this.tokenBytes(id), { stream: true })).join('') + decoder.decode();
    return stripLeadingSpace && text.startsWith(' ') ? text.slice(1) : text;
  }
}
