/**
 * Whether the attributions point at the words the model's prediction rests on, against random words:
 * - deletion (AOPC style): the predicted label's probability drop when the top 1, top 2 and top 20 % (rounded up)
 *   of words by attribution toward it are deleted, and when as many random words are;
 * - insertion: from the text with every word deleted, words put back in attribution order or in random order; the
 *   predicted label's probability at fractions 0, 0.1, ..., 1 of the words, and the area under that curve.
 * Random words: `draws` seeded orders per text, averaged. Every variant text goes through the same classifier.
 */
import type { TextClassifier } from '../../functions/engine/tasks/text-classifier.js';
import { seededRandom } from '../../functions/tuning/trainer/prng.js';
import { probabilities, type TextExplanation } from './explain-texts.js';
import { byAttribution, deleteWords, keepWords, randomOrder } from './word-edits.js';

export const DELETIONS = [
  { name: 'top 1 word', count: (_n: number) => 1 },
  { name: 'top 2 words', count: (_n: number) => 2 },
  { name: 'top 20 % of words', count: (n: number) => Math.ceil(0.2 * n) },
] as const;
export const FRACTIONS = Array.from({ length: 11 }, (_, i) => i / 10);

export interface Faithfulness {
  texts: number;
  /** Mean probability of the predicted label on the texts as read. */
  baseProbability: number;
  /** Per DELETIONS entry, the mean drop of the predicted label's probability. */
  deletion: { attribution: number[]; random: number[] };
  /** Per FRACTIONS entry, the mean probability with that fraction of words put back. */
  insertion: { attribution: number[]; random: number[] };
  /** Mean area under each text's insertion curve (trapezoids over FRACTIONS). */
  insertionAuc: { attribution: number; random: number };
}

/** One text's variants to classify: each row's probabilities are read back at its indexes. */
interface TextPlan {
  base: number;
  deletion: { attribution: number[]; random: number[][] };
  insertion: { attribution: number[]; random: number[][] };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const auc = (curve: number[]) => curve.slice(1).reduce((sum, y, i) => sum + ((y + curve[i]!) / 2) * (FRACTIONS[i + 1]! - FRACTIONS[i]!), 0);

export async function faithfulness(classifier: TextClassifier, explained: TextExplanation[], options: { seed: number; draws: number }): Promise<Faithfulness> {
  const random = seededRandom(options.seed);
  const texts: string[] = [];
  const labels: number[] = [];
  const add = (text: string, label: number): number => {
    texts.push(text);
    labels.push(label);
    return texts.length - 1;
  };
  const plans: TextPlan[] = [];
  for (const e of explained) {
    const words = e.byLabel[e.predicted]!;
    const n = words.length;
    if (n === 0) continue;
    const attributed = byAttribution(words.map((w) => w.attribution));
    const randoms = Array.from({ length: options.draws }, () => randomOrder(n, random));
    const deleted = (order: number[]) => DELETIONS.map((d) => add(deleteWords(e.read, words, order.slice(0, Math.min(n, d.count(n)))), e.predicted));
    const inserted = (order: number[]) => FRACTIONS.map((f) => add(keepWords(e.read, words, order.slice(0, Math.round(f * n))), e.predicted));
    plans.push({
      base: add(e.read, e.predicted),
      deletion: { attribution: deleted(attributed), random: randoms.map(deleted) },
      insertion: { attribution: inserted(attributed), random: randoms.map(inserted) },
    });
  }
  const p = await probabilities(classifier, texts, labels);
  const at = (indexes: number[]) => indexes.map((i) => p[i]!);
  const averaged = (draws: number[][]) => draws[0]!.map((_, j) => mean(draws.map((d) => p[d[j]!]!)));
  const rows = plans.map((plan) => {
    const base = p[plan.base]!;
    return {
      base,
      deletion: { attribution: at(plan.deletion.attribution).map((q) => base - q), random: averaged(plan.deletion.random).map((q) => base - q) },
      insertion: { attribution: at(plan.insertion.attribution), random: averaged(plan.insertion.random) },
      // Each random order's own area, averaged (the same as the area of the averaged curve: the area is linear).
      auc: { attribution: auc(at(plan.insertion.attribution)), random: mean(plan.insertion.random.map((d) => auc(at(d)))) },
    };
  });
  const column = (pick: (row: (typeof rows)[number]) => number[], j: number) => mean(rows.map((row) => pick(row)[j]!));
  return {
    texts: rows.length,
    baseProbability: mean(rows.map((r) => r.base)),
    deletion: {
      attribution: DELETIONS.map((_, j) => column((r) => r.deletion.attribution, j)),
      random: DELETIONS.map((_, j) => column((r) => r.deletion.random, j)),
    },
    insertion: {
      attribution: FRACTIONS.map((_, j) => column((r) => r.insertion.attribution, j)),
      random: FRACTIONS.map((_, j) => column((r) => r.insertion.random, j)),
    },
    insertionAuc: { attribution: mean(rows.map((r) => r.auc.attribution)), random: mean(rows.map((r) => r.auc.random)) },
  };
}
