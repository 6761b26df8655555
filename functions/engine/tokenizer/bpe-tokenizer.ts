/**
 * The Llama / SentencePiece flavour of Hugging Face's BPE tokenizer.json: spaces become "▁" and one is prepended,
 * merges apply by rank over the characters, and a symbol missing from the vocabulary falls back to its UTF-8
 * bytes (<0xNN> tokens). Special-token strings in user text are encoded as plain text, never as control tokens.
 */
import { TokenizerFormatError } from './tokenizer-json.js';

const SPACE = '\u2581';

interface BpeJson {
  model: { type?: string; vocab: Record<string, number>; merges: (string | [string, string])[]; byte_fallback?: boolean; unk_token?: string };
  normalizer?: { type: string; normalizers?: { type: string; prepend?: string }[] } | null;
}

export class BpeTokenizer {
  private readonly ranks = new Map<string, number>();
  private readonly pieces: string[] = [];
  private readonly byteIds = new Map<number, number>();
  private readonly idBytes = new Map<number, number>();
  private readonly prependSpace: boolean;

  constructor(
    private readonly vocab: Map<string, number>,
    merges: [string, string][],
    readonly bosId: number,
    readonly eosId: number,
    readonly unkId: number,
    prependSpace: boolean,
  ) {
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
  }

  static fromJson(value: unknown, special: { bos: string; eos: string; unk: string } = { bos: '<s>', eos: '</s>', unk: '<unk>' }): BpeTokenizer {
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
    return new BpeTokenizer(vocab, merges, id(special.bos), id(special.eos), id(special.unk), prepend);
  }

  /** A token's text as the vocabulary spells it (for special tokens: "<s>", "</s>"). */
  piece(id: number): string {
    return this.pieces[id] ?? '';
  }

  get vocabSize(): number {
    return this.pieces.length;
  }

  encode(text: string, addBos = true): number[] {
    const normalized = (this.prependSpace && text !== '' ? SPACE : '') + text.replaceAll(' ', SPACE);
    const symbols = Array.from(normalized);
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      symbols.splice(best, 2, symbols[best]! + symbols[best + 1]!);
    }
    const ids = addBos ? [this.bosId] : [];
    for (const symbol of symbols) {
      const id = this.vocab.get(symbol);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      for (const byte of new TextEncoder().encode(symbol)) ids.push(this.byteIds.get(byte) ?? this.unkId);
    }
    return ids;
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
