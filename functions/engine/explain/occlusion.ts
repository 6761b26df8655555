/**
 * Occlusion (leave-one-word-out): a word's attribution to a label is the label's score on the text as the model read
 * it, less its score with that word deleted. Positive: the word pushed toward the label; negative: against it. All
 * variants of all texts go to the classifier in one call, so its batcher runs them in as few session.runs as it can.
 *
 * A text the model truncates is explained over what it read: the words that fit, and its variants are cut at the
 * same place, so deleting a word never lets an unread one in. Its baseline is then that prefix, classified too.
 */
import { withoutWord, wordSpans, type WordSpan } from './word-spans.js';

export const EXPLAIN_METHODS = ['occlusion'] as const;
export type ExplainMethod = (typeof EXPLAIN_METHODS)[number];

/** What one text's explanation needs: its words the model reads, and the texts to classify for them. */
export interface OcclusionPlan {
  words: WordSpan[];
  /** Characters of the caller's text the model reads (text.length when it reads all of it). */
  explainedChars: number;
  truncated: boolean;
  /** One text per word, that word deleted (withoutWord); then, for a truncated text, the prefix the model read (its baseline). */
  variants: string[];
}

/** The words of a text that the model reads, before any variant is made (what an explain limit counts). */
export type ReadWords = Omit<OcclusionPlan, 'variants'>;

/**
 * `readsWhole(t)`: whether the model reads all of t (absent: it reads every text whole). For a text it truncates,
 * a binary search finds the longest prefix that ends a word and that it reads whole: O(log words) tokenizations.
 */
export function readWords(text: string, readsWhole?: (text: string) => boolean): ReadWords {
  const all = wordSpans(text);
  const truncated = readsWhole !== undefined && !readsWhole(text);
  if (!truncated) return { words: all, explainedChars: text.length, truncated };
  let fit = 0; // all[0, fit) are read whole
  let hi = all.length;
  while (fit < hi) {
    const mid = (fit + hi + 1) >> 1;
    if (readsWhole(text.slice(0, all[mid - 1]!.end))) fit = mid;
    else hi = mid - 1;
  }
  const words = all.slice(0, fit);
  return { words, explainedChars: fit === 0 ? 0 : words[fit - 1]!.end, truncated };
}

/** The variants of what readWords found: each word deleted from what the model read, then (truncated) that prefix. */
export function withVariants(text: string, read: ReadWords): OcclusionPlan {
  const prefix = text.slice(0, read.explainedChars);
  const variants = read.words.map((w) => withoutWord(prefix, w));
  if (read.truncated && read.words.length > 0) variants.push(prefix);
  return { ...read, variants };
}

export function planOcclusion(text: string, readsWhole?: (text: string) => boolean): OcclusionPlan {
  return withVariants(text, readWords(text, readsWhole));
}

export interface WordAttribution extends WordSpan {
  attribution: number;
}

/**
 * The words' attributions to one label, from the scores (under the response's score function) of the text and of
 * each of the plan's variants, in the plan's order. `label` indexes the score rows.
 */
export function occlusionAttributions(plan: OcclusionPlan, textScores: number[], variantScores: number[][], label: number): WordAttribution[] {
  // A truncated text none of whose words fit (punctuation fills what the model reads) has no baseline variant.
  if (plan.words.length === 0) return [];
  const baseline = plan.truncated ? variantScores[plan.words.length]![label]! : textScores[label]!;
  return plan.words.map((word, i) => ({ ...word, attribution: baseline - variantScores[i]![label]! }));
}
