// planOcclusion and occlusionAttributions: pure logic over a text's words. readsWhole here is a small token
// counter standing in for the tokenizer (a word or a punctuation mark is one token, plus [CLS] and [SEP]).
import { describe, expect, it } from 'vitest';
import { occlusionAttributions, planOcclusion } from '../../functions/engine/explain/occlusion.js';
import { wordSpans } from '../../functions/engine/explain/word-spans.js';

const tokens = (text: string) => 2 + (text.match(/[\p{L}\p{N}]+|[\p{P}]/gu)?.length ?? 0);

/** A readsWhole of a model that reads `max` tokens, counting its calls. */
function modelOf(max: number) {
  const model = { calls: 0, readsWhole: (text: string) => (model.calls++, tokens(text) <= max) };
  return model;
}

/** The longest prefix ending a word that the model reads whole, by trying every word end. */
function longestReadPrefix(text: string, max: number): number {
  const ends = wordSpans(text).map((w) => w.end).filter((end) => tokens(text.slice(0, end)) <= max);
  return ends.length ? ends[ends.length - 1]! : 0;
}

const TEXT = 'A witty , warm film -- and a sad , slow , long ending !';

describe('planOcclusion', () => {
  it('explains every word of a text the model reads whole: one variant per word, that word deleted', () => {
    for (const readsWhole of [undefined, () => true]) {
      const plan = planOcclusion(TEXT, readsWhole);
      expect(plan.truncated).toBe(false);
      expect(plan.explainedChars).toBe(TEXT.length);
      expect(plan.words).toEqual(wordSpans(TEXT));
      expect(plan.variants).toHaveLength(plan.words.length);
      plan.words.forEach((word, i) => {
        const variant = plan.variants[i]!;
        expect(variant).toBe(TEXT.slice(0, word.start) + TEXT.slice(word.end));
        // Exactly that word is gone: the others, and every punctuation mark, remain in order.
        expect(wordSpans(variant).map((w) => w.text)).toEqual(plan.words.filter((_, j) => j !== i).map((w) => w.text));
        expect(variant.replace(/[^\p{P}]/gu, '')).toBe(TEXT.replace(/[^\p{P}]/gu, ''));
      });
    }
  });

  it('explains a truncated text over the prefix the model reads: variants cut there, then that prefix as baseline', () => {
    const model = modelOf(10);
    const plan = planOcclusion(TEXT, model.readsWhole);
    const read = TEXT.slice(0, plan.explainedChars);
    expect(plan.truncated).toBe(true);
    expect(read).toBe('A witty , warm film -- and');
    expect(tokens(read)).toBeLessThanOrEqual(10);
    expect(plan.words.map((w) => w.text)).toEqual(['A', 'witty', 'warm', 'film', 'and']);
    expect(plan.variants).toHaveLength(plan.words.length + 1);
    expect(plan.variants.at(-1)).toBe(read);
    plan.words.forEach((word, i) => {
      expect(word.end).toBeLessThanOrEqual(plan.explainedChars);
      expect(plan.variants[i]).toBe(read.slice(0, word.start) + read.slice(word.end));
      expect(plan.variants[i]).not.toMatch(/sad|ending/);
    });
  });

  it('finds the longest fitting prefix by binary search, for every model length, in O(log words) calls', () => {
    const words = wordSpans(TEXT).length;
    for (let max = 2; max <= tokens(TEXT) + 1; max++) {
      const model = modelOf(max);
      const plan = planOcclusion(TEXT, model.readsWhole);
      const whole = tokens(TEXT) <= max;
      expect(plan.truncated, `max ${max}`).toBe(!whole);
      expect(plan.explainedChars, `max ${max}`).toBe(whole ? TEXT.length : longestReadPrefix(TEXT, max));
      expect(model.calls, `max ${max}`).toBeLessThanOrEqual(1 + Math.ceil(Math.log2(words + 1)));
    }
  });

  it('explains no word of a text whose first word does not fit, and classifies no variant for it', () => {
    const plan = planOcclusion('Supercalifragilistic film', (text) => text.length < 5);
    expect(plan).toEqual({ words: [], explainedChars: 0, truncated: true, variants: [] });
  });

  it('has nothing to explain in a text without words', () => {
    for (const text of ['?!', '... , --']) {
      expect(planOcclusion(text, modelOf(128).readsWhole)).toEqual({ words: [], explainedChars: text.length, truncated: false, variants: [] });
    }
  });
});

describe('occlusionAttributions', () => {
  it("gives each word the label's score on the text less its score without the word", () => {
    const plan = planOcclusion('a witty film');
    const attributions = occlusionAttributions(plan, [0.1, 0.9], [[0.2, 0.8], [0.7, 0.3], [0.15, 0.85]], 1);
    expect(attributions.map((a) => [a.text, a.start, a.end])).toEqual([['a', 0, 1], ['witty', 2, 7], ['film', 8, 12]]);
    const expected = [0.9 - 0.8, 0.9 - 0.3, 0.9 - 0.85];
    attributions.forEach((a, i) => expect(a.attribution).toBeCloseTo(expected[i]!, 12));
    occlusionAttributions(plan, [0.1, 0.9], [[0.2, 0.8], [0.7, 0.3], [0.15, 0.85]], 0)
      .forEach((a, i) => expect(a.attribution).toBeCloseTo(-expected[i]!, 12));
  });

  it("measures a truncated text's words against the prefix's score, not the truncated text's", () => {
    const plan = planOcclusion('good film but a dull ending', (text) => text.length <= 'good film'.length);
    expect(plan.variants).toEqual([' film', 'good ', 'good film']);
    // The text's own score (0.5) is not the baseline: the prefix "good film" (0.95) is.
    const attributions = occlusionAttributions(plan, [0.5, 0.5], [[0.4, 0.6], [0.1, 0.9], [0.05, 0.95]], 1);
    expect(attributions.map((a) => a.attribution)).toEqual([0.95 - 0.6, 0.95 - 0.9]);
  });

  it('attributes nothing when no word was explained', () => {
    expect(occlusionAttributions(planOcclusion('!!'), [0.3, 0.7], [], 1)).toEqual([]);
    expect(occlusionAttributions(planOcclusion('longword', () => false), [0.3, 0.7], [], 1)).toEqual([]);
  });
});
