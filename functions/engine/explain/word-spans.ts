/**
 * The words of a caller's text, with character offsets into that text as given (not the lower-cased, accent-stripped
 * text the tokenizer reads). A word is what BERT's pre-tokenizer keeps as one: a run of characters that are neither
 * whitespace nor punctuation; each CJK ideograph is a word of its own, as the BERT normalizer splits them.
 * Punctuation is not a word: it stays in every variant and gets no attribution.
 */
export interface WordSpan {
  text: string;
  /** Offset of the word's first UTF-16 code unit in the caller's string. */
  start: number;
  /** Offset just past its last one: text === input.slice(start, end). */
  end: number;
}

const ASCII_PUNCTUATION = '\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const CJK = '\\u3400-\\u4DBF\\u4E00-\\u9FFF\\uF900-\\uFAFF\\u{20000}-\\u{2A6DF}\\u{2A700}-\\u{2EBEF}\\u{2F800}-\\u{2FA1F}';
const WORD = new RegExp(`[${CJK}]|[^\\s\\p{Zs}\\p{P}${ASCII_PUNCTUATION}${CJK}]+`, 'gu');

export function wordSpans(text: string): WordSpan[] {
  return Array.from(text.matchAll(WORD), (m) => ({ text: m[0], start: m.index, end: m.index + m[0].length }));
}
