import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { meanPool, weightedMean } from '../../functions/engine/features/mean-pooling.js';
import { windowsOf } from '../../functions/engine/features/token-windows.js';
import { readLabelledTsv } from '../../models/tools/labelled-tsv.js';
import { WordPieceTokenizer } from '../../functions/engine/tokenizer/wordpiece-tokenizer.js';
import { sst2BertDir, devTsv } from '../paths.js';

// The default model's real WordPiece tokenizer (128-id windows), so that windows are cut where real texts cut.
const tokenizer = WordPieceTokenizer.fromJson(JSON.parse(await readFile(join(sst2BertDir, 'tokenizer.json'), 'utf8')), 128);
const pieces = (text: string) => tokenizer.tokenize(text, { maxLength: 1e6 }).ids.slice(1, -1);
const devSentences = (await readLabelledTsv(devTsv)).map((r) => r.text);
/** SST-2 dev sentences joined until the text has at least `words` words. */
function textOf(words: number): string {
  const parts: string[] = [];
  let count = 0;
  for (const sentence of devSentences) {
    if (count >= words) break;
    parts.push(sentence);
    count += sentence.split(/\s+/).length;
  }
  return parts.join(' ');
}

describe('windowsOf', () => {
  it('reads a text that fits in one window exactly as the tokenizer encodes it', () => {
    const text = devSentences[0]!;
    expect(windowsOf(tokenizer, text, 128, 16)).toEqual({ rows: [tokenizer.tokenize(text).ids], truncated: false });
    expect(windowsOf(tokenizer, '', 128, 16)).toEqual({ rows: [[tokenizer.clsId, tokenizer.sepId]], truncated: false });
  });

  it('reads a 600-word text in windows of at most 128 ids that hold every piece once, in order, shared out evenly', () => {
    const text = textOf(600);
    const all = pieces(text);
    const { rows, truncated } = windowsOf(tokenizer, text, 128, 16);
    expect(truncated).toBe(false);
    expect(rows.length).toBe(Math.ceil(all.length / 126));
    expect(rows.length).toBeGreaterThan(1);
    for (const row of rows) {
      expect(row.length).toBeLessThanOrEqual(128);
      expect(row[0]).toBe(tokenizer.clsId);
      expect(row.at(-1)).toBe(tokenizer.sepId);
    }
    expect(rows.flatMap((row) => row.slice(1, -1))).toEqual(all);
    const sizes = rows.map((row) => row.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('reads at most maxWindows full windows of a longer text and says the rest was dropped', () => {
    const text = textOf(600);
    const { rows, truncated } = windowsOf(tokenizer, text, 128, 2);
    expect(truncated).toBe(true);
    expect(rows.map((row) => row.length)).toEqual([128, 128]);
    expect(rows.flatMap((row) => row.slice(1, -1))).toEqual(pieces(text).slice(0, 252));
    // Exactly two windows' worth is no truncation; one piece more is.
    expect(pieces('good')).toHaveLength(1);
    expect(windowsOf(tokenizer, 'good '.repeat(252), 128, 2).truncated).toBe(false);
    expect(windowsOf(tokenizer, 'good '.repeat(253), 128, 2).truncated).toBe(true);
  });

  it('refuses windows too short to hold a piece, and a window count below one', () => {
    expect(() => windowsOf(tokenizer, 'a', 2, 16)).toThrow(RangeError);
    expect(() => windowsOf(tokenizer, 'a', 128, 0)).toThrow(RangeError);
  });
});

describe('mean pooling', () => {
  it('averages each row over its own tokens and ignores the padding after them', () => {
    // 2 rows x width 3 x 2 dimensions; row 1 has 2 tokens, its third position is padding (huge, to be seen if used).
    const hidden = Float32Array.from([1, 2, 3, 4, 5, 6, /* row 1 */ 10, 20, 30, 40, 1e9, 1e9]);
    const [a, b] = meanPool(hidden, 3, 2, [3, 2]);
    expect([...a!]).toEqual([3, 4]);
    expect([...b!]).toEqual([20, 30]);
    expect(() => meanPool(hidden, 3, 2, [3])).toThrow(/not 1 x 3 x 2/);
  });

  it('weights window vectors by token count: the mean over every token the windows saw', () => {
    const hidden = Float32Array.from([1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 0, 0]);
    const windows = meanPool(hidden, 3, 2, [3, 2]);
    const whole = meanPool(Float32Array.from([1, 2, 3, 4, 5, 6, 10, 20, 30, 40]), 5, 2, [5])[0]!;
    expect([...weightedMean(windows, [3, 2])]).toEqual([...whole]);
    expect(weightedMean([windows[0]!], [3])).toBe(windows[0]);
  });
});
