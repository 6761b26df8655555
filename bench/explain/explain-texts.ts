/**
 * Explanations in process, through the code the routes run (planExplanations, then one classify call for the texts
 * and their variants, then explainResults) with softmax scores, as POST /v1/classify answers them.
 */
import { explainResults, MAX_EXPLAINED_TEXTS, MAX_EXPLAINED_WORDS, planExplanations } from '../../functions/app/explanations.js';
import { applyScoreFunction } from '../../functions/engine/classification/scores.js';
import type { WordAttribution } from '../../functions/engine/explain/occlusion.js';
import { wordSpans } from '../../functions/engine/explain/word-spans.js';
import type { TextClassifier } from '../../functions/engine/tasks/text-classifier.js';

export interface TextExplanation {
  /** What the model read of the text (all of it unless it truncated). */
  read: string;
  /** Index of the label the model predicts. */
  predicted: number;
  /** The softmax probabilities of the text as read. */
  probabilities: number[];
  /** Per label index, its words' attributions. */
  byLabel: WordAttribution[][];
}

/** Texts in groups the explain limits accept (at most 16 texts and 512 words each). */
function groups(texts: string[]): string[][] {
  const out: string[][] = [];
  let group: string[] = [];
  let words = 0;
  for (const text of texts) {
    const n = wordSpans(text).length;
    if (group.length > 0 && (group.length === MAX_EXPLAINED_TEXTS || words + n > MAX_EXPLAINED_WORDS)) {
      out.push(group);
      group = [];
      words = 0;
    }
    group.push(text);
    words += n;
  }
  if (group.length > 0) out.push(group);
  return out;
}

/** Every text explained toward every label (labels "all"), as a request with `explain: { labels: "all" }` would be. */
export async function explainTexts(classifier: TextClassifier, texts: string[]): Promise<TextExplanation[]> {
  const labels = classifier.labels;
  const out: TextExplanation[] = [];
  for (const group of groups(texts)) {
    const batch = planExplanations(classifier, group, 'input');
    const all = await classifier.classify(batch.texts);
    const { results, ranked } = explainResults(batch, all, labels, 'softmax', labels.length, { method: 'occlusion', labels: 'all' });
    group.forEach((text, t) => {
      const probabilities = applyScoreFunction(results[t]!.logits, 'softmax');
      const byLabel = labels.map((name) => ranked[t]!.find((entry) => entry.label === name)!.explanation!.words);
      const predicted = labels.indexOf(ranked[t]![0]!.label);
      out.push({ read: text.slice(0, batch.plans[t]!.explainedChars), predicted, probabilities, byLabel });
    });
  }
  return out;
}

/** Texts per classify call: well inside the engine's queue bound (4,096 texts), several of its batches long. */
const SLICE = 512;

/** Softmax probability of `label[i]` for each text. */
export async function probabilities(classifier: TextClassifier, texts: string[], label: number[]): Promise<number[]> {
  const out: number[] = [];
  for (let from = 0; from < texts.length; from += SLICE) {
    const results = await classifier.classify(texts.slice(from, from + SLICE));
    results.forEach((r, i) => out.push(applyScoreFunction(r.logits, 'softmax')[label[from + i]!]!));
  }
  return out;
}
