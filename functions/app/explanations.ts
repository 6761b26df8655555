/**
 * `explain` on the classification routes: which words made the label. The texts' occlusion variants are classified
 * with the texts themselves, in one classifier call (so one admission, one meter: the extra inference is billed as
 * input tokens at the model's price), and each explained label of a result gets its words' attributions.
 */
import { z } from '@hono/zod-openapi';
import { applyScoreFunction, type LabelScore, type ScoreFunction } from '../engine/classification/scores.js';
import { EXPLAIN_METHODS, occlusionAttributions, readWords, withVariants, type ExplainMethod, type OcclusionPlan, type WordAttribution } from '../engine/explain/occlusion.js';
import type { ClassifiedText, TextClassifier } from '../engine/tasks/text-classifier.js';
import { invalidRequest } from '../http/errors.js';

/** Texts one explained request may hold: each costs a batch of variants. */
export const MAX_EXPLAINED_TEXTS = 16;
/** Words one explained request may explain, over all its texts (each word is one more text for the model to read). */
export const MAX_EXPLAINED_WORDS = 512;
/**
 * Tokens one request's explanation may have the model read (its variants): a bound on the work one request queues
 * ahead of everyone else's (about a second of one WASM thread here), and one that any request under it can be
 * served within the queue's deadline on an idle server. 512 one-line words fit; 512 words of 128-token texts do not.
 */
export const MAX_EXPLANATION_TOKENS = 16_384;

export const ExplainOption = z
  .union([
    z.boolean(),
    z.strictObject({
      method: z.enum(EXPLAIN_METHODS, { error: `must be one of ${EXPLAIN_METHODS.join(', ')}` }).optional(),
      labels: z.enum(['top', 'all'], { error: 'must be "top" or "all"' }).optional(),
    }, { error: 'has an unknown field; it takes method and labels' }),
  ], { error: 'must be true, false or an object { method?, labels? }' })
  .openapi({
    description: `Explain each text's top label (or, with labels "all", every returned label): per word of the text, its attribution. `
      + `At most ${MAX_EXPLAINED_TEXTS} texts, ${MAX_EXPLAINED_WORDS} explained words and ${MAX_EXPLANATION_TOKENS.toLocaleString('en')} explanation tokens per request; `
      + 'the extra inference is billed as input tokens.',
    example: true,
  });
export type ExplainOption = z.infer<typeof ExplainOption>;

export interface ExplainSettings {
  method: ExplainMethod;
  labels: 'top' | 'all';
}

export function explainSettings(option: ExplainOption | undefined): ExplainSettings | null {
  if (option === undefined || option === false) return null;
  if (option === true) return { method: 'occlusion', labels: 'top' };
  return { method: option.method ?? 'occlusion', labels: option.labels ?? 'top' };
}

const WordAttributionSchema = z.object({
  text: z.string().openapi({ description: 'The word as the caller wrote it.' }),
  start: z.number().int().openapi({ description: "Offset of the word's first character (UTF-16 code unit) in the caller's text." }),
  end: z.number().int().openapi({ description: 'Offset just past its last: text === input.slice(start, end).' }),
  attribution: z.number().openapi({ description: "The label's score less its score with this word deleted: > 0 toward the label, < 0 against it." }),
});

export const Explanation = z
  .object({
    method: z.enum(EXPLAIN_METHODS),
    words: z.array(WordAttributionSchema),
    truncated: z.boolean().openapi({ description: 'The model read only the first explained_chars characters; words past them are not explained.' }),
    explained_chars: z.number().int(),
  })
  .openapi('Explanation');
export type Explanation = z.infer<typeof Explanation>;

export type ExplainedLabelScore = LabelScore & { explanation?: Explanation };

/** The texts' plans and everything the classifier must read: the texts, then each plan's variants in order. */
export interface ExplainedBatch {
  plans: OcclusionPlan[];
  texts: string[];
  /** Per text of `texts`, the tokens the classifier will read (when it counts them: admission's exact estimate). */
  tokens?: number[];
}

/**
 * 400 past the limits (naming `param`, the route's input field): texts, words (those the model reads) and the
 * tokens the variants cost (counted by the classifier, or bounded by one per character where it cannot count).
 */
export function planExplanations(classifier: TextClassifier, texts: string[], param: string): ExplainedBatch {
  if (texts.length > MAX_EXPLAINED_TEXTS) {
    throw invalidRequest(`"${param}" holds ${texts.length} texts; at most ${MAX_EXPLAINED_TEXTS} per request when explain is on`, param, 'explain_limit');
  }
  const readsWhole = classifier.readsWhole?.bind(classifier);
  // Counted before any variant is made: a long text's variants are its length times its words.
  const read = texts.map((text) => readWords(text, readsWhole));
  const words = read.reduce((sum, r) => sum + r.words.length, 0);
  if (words > MAX_EXPLAINED_WORDS) {
    throw invalidRequest(`"${param}" holds ${words} words to explain; at most ${MAX_EXPLAINED_WORDS} per request`, param, 'explain_limit');
  }
  const plans = texts.map((text, i) => withVariants(text, read[i]!));
  const variants = plans.flatMap((plan) => plan.variants);
  const all = [...texts, ...variants];
  const tokens = classifier.countTokens?.(all);
  const variantTokens = tokens ? tokens.slice(texts.length) : variants.map((v) => v.length + 2);
  const explanationTokens = variantTokens.reduce((sum, n) => sum + n, 0);
  if (explanationTokens > MAX_EXPLANATION_TOKENS) {
    throw invalidRequest(
      `explaining "${param}" would have the model read ${explanationTokens} tokens (one variant per word); at most ${MAX_EXPLANATION_TOKENS} per request: send fewer or shorter texts`,
      param, 'explain_limit');
  }
  return { plans, texts: all, ...(tokens ? { tokens } : {}) };
}

export interface ExplainedResults {
  /** The texts' own results, as a plain request would have them. */
  results: ClassifiedText[];
  /** Per text, its labels best first (top k), the explained ones with their explanation. */
  ranked: ExplainedLabelScore[][];
  /** Of all input tokens, those the variants cost. */
  explanationTokens: number;
}

/** Splits what the classifier answered for an ExplainedBatch, and explains the chosen labels of each text. */
export function explainResults(
  batch: ExplainedBatch, all: ClassifiedText[], labels: string[], fn: ScoreFunction, k: number, settings: ExplainSettings,
): ExplainedResults {
  const results = all.slice(0, batch.plans.length);
  let next = batch.plans.length;
  let explanationTokens = 0;
  const ranked = batch.plans.map((plan, t) => {
    const variants = all.slice(next, next + plan.variants.length);
    next += plan.variants.length;
    explanationTokens += variants.reduce((sum, v) => sum + v.tokens, 0);
    const scores = applyScoreFunction(results[t]!.logits, fn);
    const variantScores = variants.map((v) => applyScoreFunction(v.logits, fn));
    const order = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!).slice(0, k);
    return order.map((label, rank): ExplainedLabelScore => {
      const entry = { label: labels[label]!, score: scores[label]! };
      if (settings.labels === 'top' && rank > 0) return entry;
      const words: WordAttribution[] = occlusionAttributions(plan, scores, variantScores, label);
      return { ...entry, explanation: { method: settings.method, words, truncated: plan.truncated, explained_chars: plan.explainedChars } };
    });
  });
  return { results, ranked, explanationTokens };
}
