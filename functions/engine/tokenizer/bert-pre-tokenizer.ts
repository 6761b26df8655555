/** BertPreTokenizer: split on whitespace, and make every punctuation character a word of its own. */
const ASCII_PUNCTUATION = '\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const WORDS = new RegExp(`[^\\s\\p{Zs}\\p{P}${ASCII_PUNCTUATION}]+|[\\p{P}${ASCII_PUNCTUATION}]`, 'gu');

export function preTokenizeBert(text: string): string[] {
  return text.match(WORDS) ?? [];
}
