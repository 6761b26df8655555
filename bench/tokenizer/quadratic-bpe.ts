/**
 * The BPE encoder the generation server used before issue 17, kept only as the benchmark's peer and the tests'
 * reference: every merge rescans all pairs for the lowest rank (O(n²)). Same vocabulary, merges and byte fallback
 * as BpeTokenizer.
 */
const SPACE = '\u2581';

interface BpeJson {
  model: { vocab: Record<string, number>; merges: (string | [string, string])[] };
  normalizer?: { normalizers?: { type: string; prepend?: string }[] } | null;
}

export class QuadraticBpe {
  private readonly ranks = new Map<string, number>();
  private readonly vocab: Map<string, number>;
  private readonly byteIds = new Map<number, number>();
  private readonly prependSpace: boolean;
  private readonly bosId: number;
  private readonly unkId: number;

  constructor(json: BpeJson) {
    this.vocab = new Map(Object.entries(json.model.vocab));
    json.model.merges
      .map((m) => (typeof m === 'string' ? (m.split(' ') as [string, string]) : m))
      .forEach(([a, b], rank) => this.ranks.set(`${a} ${b}`, rank));
    for (const [piece, id] of this.vocab) {
      const byte = /^<0x([0-9A-F]{2})>$/.exec(piece);
      if (byte) this.byteIds.set(parseInt(byte[1]!, 16), id);
    }
    this.prependSpace = json.normalizer?.normalizers?.some((n) => n.type === 'Prepend' && n.prepend === SPACE) ?? false;
    this.bosId = this.vocab.get('<s>')!;
    this.unkId = this.vocab.get('<unk>')!;
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
}
