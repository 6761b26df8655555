/**
 * Texts with some of their words deleted, the way occlusion deletes one (the word's characters cut out, spaces and
 * punctuation left), and the orders the deletion and insertion curves take words in.
 */
import type { WordSpan } from '../../functions/engine/explain/word-spans.js';
import { shuffleInPlace, type Random } from '../../functions/tuning/trainer/prng.js';

/** `text` with the words at `deleted` (indexes into `words`) cut out. */
export function deleteWords(text: string, words: WordSpan[], deleted: Iterable<number>): string {
  const cut = [...new Set(deleted)].sort((a, b) => a - b);
  let out = '';
  let from = 0;
  for (const i of cut) {
    out += text.slice(from, words[i]!.start);
    from = words[i]!.end;
  }
  return out + text.slice(from);
}

/** `text` keeping only the words at `kept`: every other word deleted. */
export function keepWords(text: string, words: WordSpan[], kept: Iterable<number>): string {
  const keep = new Set(kept);
  return deleteWords(text, words, words.map((_, i) => i).filter((i) => !keep.has(i)));
}

/** Word indexes, highest attribution first (ties: the earlier word first). */
export function byAttribution(attributions: number[]): number[] {
  return attributions.map((_, i) => i).sort((a, b) => attributions[b]! - attributions[a]! || a - b);
}

export function randomOrder(n: number, random: Random): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  shuffleInPlace(order, random);
  return order;
}
