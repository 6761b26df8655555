/**
 * The text as the detectors read it: fullwidth forms (ＡＢＣ, ０１２, ＠) as their ASCII letters, and invisible
 * characters (zero-width spaces and joiners, word joiner, byte-order mark, soft hyphen) left out, so that
 * "jane＠example.com" or "4111\u200b1111 1111 1111" are found like the plain values. Positions found in the folded
 * text map back to the original through `originalIndex`, so a mask replaces exactly the original characters.
 */
const FOLDED = /[\u00AD\u200B-\u200D\u2060\uFEFF\uFF01-\uFF5E]/;
const INVISIBLE = /[\u00AD\u200B-\u200D\u2060\uFEFF]/;

export interface FoldedText {
  text: string;
  /** The original index of folded index i (i = text.length: the original's length). */
  originalIndex(i: number): number;
}

const unchanged = (text: string): FoldedText => ({ text, originalIndex: (i) => i });

export function foldForDetection(text: string): FoldedText {
  if (!FOLDED.test(text)) return unchanged(text);
  let out = '';
  const origin: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (INVISIBLE.test(ch)) continue;
    const code = ch.charCodeAt(0);
    out += code >= 0xff01 && code <= 0xff5e ? String.fromCharCode(code - 0xfee0) : ch;
    origin.push(i);
  }
  return { text: out, originalIndex: (i) => (i < origin.length ? origin[i]! : text.length) };
}
