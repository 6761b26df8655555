/**
 * The BPE encoder the generation server used before issue 17, kept only as the benchmark's peer and the tests'
 * reference: BpeTokenizer with its merge loop put back as it was, where every merge rescans all pairs for the
 * lowest rank (O(n²)). Normalization, vocabulary, byte fallback and decoding are BpeTokenizer's own.
 */
import { BpeTokenizer, bpePartsFromJson } from '../../functions/engine/tokenizer/bpe-tokenizer.js';

export class QuadraticBpe extends BpeTokenizer {
  constructor(json: unknown) {
    super(bpePartsFromJson(json));
  }

  protected override merge(symbols: string[]): string[] {
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
      if (best < 0) return symbols;
      symbols.splice(best, 2, symbols[best]! + symbols[best + 1]!);
    }
  }
}
