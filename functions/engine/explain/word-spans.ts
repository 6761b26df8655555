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
// The ideographs bert-normalizer.ts pads with spaces (so each is a pre-token of its own), and no others.
const CJK = '\\u3400-\\u4DBF\\u4E00-\\u9FFF\\uF900-\\uFAFF\\u{20000}-\\u{2A6DF}\\u{2A700}-\\u{2CEAF}\\u{2F800}-\\u{2FA1F}';
// What the normalizer turns into a space. JS's \s also holds \v, \f and U+FEFF: control characters, which it
// deletes instead, so they join the characters around them into one word.
const SEPARATORS = '\\t\\n\\r\\p{Zs}\\u2028\\u2029';
const WORD = new RegExp(`[${CJK}]|[^${SEPARATORS}\\p{P}${ASCII_PUNCTUATION}${CJK}]+`, 'gu');
/**
 * A run of characters the normalizer deletes (control characters, U+FFFD) or strips with the accents (combining marks
 * standing alone): the model never reads it as a word, so it is neither explained nor billed.
 */
const UNREAD = /^[\p{C}\p{Mn}\uFFFD]+$/u;
const WORD_CHAR = `[^${SEPARATORS}\\p{P}${ASCII_PUNCTUATION}]`;
const ENDS_IN_WORD = new RegExp(`${WORD_CHAR}$`, 'u');
const STARTS_WITH_WORD = new RegExp(`^${WORD_CHAR}`, 'u');

/**
 * The text without one of its words. Where the word sat between two others with nothing to part them (an ideograph
 * glued to Latin letters: "terrible好film"), a space takes its place, so that deleting it never makes a new word.
 */
export function withoutWord(text: string, word: Pick<WordSpan, 'start' | 'end'>): string {
  const before = text.slice(0, word.start);
  const after = text.slice(word.end);
  return ENDS_IN_WORD.test(before) && STARTS_WITH_WORD.test(after) ? `${before} ${after}` : before + after;
}

export function wordSpans(text: string): WordSpan[] {
  return Array.from(text.matchAll(WORD))
    .filter((m) => !UNREAD.test(m[0]))
    .map((m) => ({ text: m[0], start: m.index, end: m.index + m[0].length }));
}
