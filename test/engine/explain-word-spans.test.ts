// wordSpans: the words an explanation attributes, as offsets into the caller's own string (UTF-16 code units),
// and the same words BERT's normalizer and pre-tokenizer make of the text.
import { describe, expect, it } from 'vitest';
import { withoutWord, wordSpans } from '../../functions/engine/explain/word-spans.js';
import { normalizeBert } from '../../functions/engine/tokenizer/bert-normalizer.js';
import { preTokenizeBert } from '../../functions/engine/tokenizer/bert-pre-tokenizer.js';

/** The words as [text, start, end], each checked to be the caller's string sliced at its offsets. */
function words(input: string): [string, number, number][] {
  const spans = wordSpans(input);
  for (const span of spans) expect(input.slice(span.start, span.end)).toBe(span.text);
  return spans.map((s) => [s.text, s.start, s.end]);
}

describe('wordSpans', () => {
  it('keeps the caller\'s case and offsets', () => {
    expect(words('A Witty MOVIE')).toEqual([['A', 0, 1], ['Witty', 2, 7], ['MOVIE', 8, 13]]);
  });

  it('keeps accented words whole, precomposed or with combining marks, offsets counting the marks', () => {
    const decomposed = 'cafe\u0301';
    expect(words(`café ${decomposed} naïve`)).toEqual([['café', 0, 4], [decomposed, 5, 10], ['naïve', 11, 16]]);
  });

  it('gives UTF-16 offsets for emoji and other astral characters (surrogate pairs count two)', () => {
    expect(words('great😀 film 👍🏽')).toEqual([['great😀', 0, 7], ['film', 8, 12], ['👍🏽', 13, 17]]);
    expect(words('a 𝒜𝒷 b')).toEqual([['a', 0, 1], ['𝒜𝒷', 2, 6], ['b', 7, 8]]);
  });

  it('makes each CJK ideograph a word, astral ones too, and keeps kana runs whole', () => {
    expect(words('日本語テキスト 𠀀x')).toEqual([['日', 0, 1], ['本', 1, 2], ['語', 2, 3], ['テキスト', 3, 7], ['𠀀', 8, 10], ['x', 10, 11]]);
  });

  it('makes no word of punctuation, ASCII or Unicode', () => {
    expect(words('... , ! ? « » — “ ” ¿')).toEqual([]);
    expect(words('"wow!" (really)')).toEqual([['wow', 1, 4], ['really', 8, 14]]);
  });

  it('splits contractions and hyphenations at the punctuation, as the pre-tokenizer does', () => {
    expect(words("it's don’t e-mail")).toEqual([['it', 0, 2], ['s', 3, 4], ['don', 5, 8], ['t', 9, 10], ['e', 11, 12], ['mail', 13, 17]]);
  });

  it('splits at tabs, newlines and Unicode spaces', () => {
    expect(words('a\tb\nc\r\nd\u00a0e\u3000f\u2028g')).toEqual([['a', 0, 1], ['b', 2, 3], ['c', 4, 5], ['d', 7, 8], ['e', 9, 10], ['f', 11, 12], ['g', 13, 14]]);
  });

  it('joins what control characters separate, and makes no word of them alone (the normalizer deletes them)', () => {
    expect(words('a\u200bb \u200b c\ufeffd \u000b')).toEqual([['a\u200bb', 0, 3], ['c\ufeffd', 6, 9]]);
  });

  it('makes no word of what the normalizer deletes or strips: U+FFFD, combining marks standing alone', () => {
    expect(words('good \ufffd bad \u0301 \u0301\u0302 ok')).toEqual([['good', 0, 4], ['bad', 7, 10], ['ok', 16, 18]]);
    expect(words('cafe\u0301')).toEqual([['cafe\u0301', 0, 5]]);
  });

  it('deletes a word without making a new one of its neighbours', () => {
    const glued = 'terrible好film';
    expect(wordSpans(glued).map((w) => withoutWord(glued, w))).toEqual(['好film', 'terrible film', 'terrible好']);
    const spaced = 'a witty, warm film';
    expect(wordSpans(spaced).map((w) => withoutWord(spaced, w))).toEqual([' witty, warm film', 'a , warm film', 'a witty,  film', 'a witty, warm ']);
  });

  it('has no words in an empty or blank text', () => {
    expect(words('')).toEqual([]);
    expect(words(' \t\n ')).toEqual([]);
  });

  it('finds the words BERT reads: one per pre-token that is not punctuation, normalized alike', () => {
    const options = { cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true };
    const isPunctuation = (token: string) => /^[\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]$/u.test(token);
    const texts = [
      "It's a WITTY, warm-hearted film -- and it doesn't miss.", 'Ça va? Très bien, cafe\u0301 crème!', '日本語のテキスト、です。',
      'emoji 😀👍🏽 and 𠀀𠀁 ideographs', 'tabs\tand\nnew\r\nlines\u00a0nbsp', 'zero\u200bwidth \u200b and\ufeffbom \u000b end',
      '$5 for €10 — 50% off! #1 @home', 'U+2CEB0 \u{2ceb0}x is not padded by the normalizer',
    ];
    for (const text of texts) {
      const read = preTokenizeBert(normalizeBert(text, options)).filter((token) => !isPunctuation(token));
      // Each word alone is exactly one pre-token, and they are the text's, in order.
      expect(wordSpans(text).map((w) => preTokenizeBert(normalizeBert(w.text, options))), text).toEqual(read.map((token) => [token]));
    }
  });
});
