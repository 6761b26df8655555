/**
 * A text longer than the encoder's window is read in several windows, each [CLS] pieces [SEP] of at most
 * `maxLength` ids, so that no text is cut to its first window. The pieces are shared out evenly (a 600-piece text
 * in 510-piece windows reads as 300 + 300, not 510 + 90), so that no window sees too little context to be worth
 * its weight. Past `maxWindows` windows the rest is dropped and said so: the tokenizer stops reading there, so a
 * megabyte of text costs no more than what is kept.
 */
import type { Tokenizer } from '../tokenizer/tokenizer.js';

/** A WordPiece-style tokenizer: its encodings are [CLS] pieces [SEP]. */
export type WindowTokenizer = Tokenizer & { readonly clsId: number; readonly sepId: number };

export interface TextWindows {
  /** Rows of ids, each [CLS] pieces [SEP], at most maxLength long; one row (maybe [CLS] [SEP]) at least. */
  rows: number[][];
  /** Pieces were left out because the text needs more than maxWindows windows. */
  truncated: boolean;
}

export function windowsOf(tokenizer: WindowTokenizer, text: string, maxLength: number, maxWindows: number): TextWindows {
  if (!Number.isInteger(maxLength) || maxLength < 3) throw new RangeError(`a window holds [CLS], [SEP] and a piece at least: maxLength ${maxLength}`);
  if (!Number.isInteger(maxWindows) || maxWindows < 1) throw new RangeError(`maxWindows must be a positive integer: ${maxWindows}`);
  const perWindow = maxLength - 2;
  const { ids, truncated } = tokenizer.tokenize(text, { maxLength: maxWindows * perWindow + 2 });
  const pieces = ids.slice(1, -1);
  const count = Math.max(1, Math.ceil(pieces.length / perWindow));
  const base = Math.floor(pieces.length / count);
  const longer = pieces.length % count;
  const rows: number[][] = [];
  let start = 0;
  for (let w = 0; w < count; w++) {
    const end = start + base + (w < longer ? 1 : 0);
    rows.push([tokenizer.clsId, ...pieces.slice(start, end), tokenizer.sepId]);
    start = end;
  }
  return { rows, truncated };
}
