// autoTokenizer picks WordPiece or BPE from tokenizer.json, and both answer the Tokenizer interface the same way.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { autoTokenizer, tokenizerTypeOf } from '../../functions/engine/tokenizer/auto-tokenizer.js';
import { BpeTokenizer } from '../../functions/engine/tokenizer/bpe-tokenizer.js';
import type { Tokenizer } from '../../functions/engine/tokenizer/tokenizer.js';
import { TokenizerFormatError } from '../../functions/engine/tokenizer/tokenizer-json.js';
import { WordPieceTokenizer } from '../../functions/engine/tokenizer/wordpiece-tokenizer.js';
import { bertBaseTokenizerDir, sst2BertDir, storiesDir } from '../paths.js';

const json = async (folder: string): Promise<unknown> => JSON.parse(await readFile(`${folder}/tokenizer.json`, 'utf8'));

describe('autoTokenizer', () => {
  it('builds WordPiece for BERT folders (a tokenizer.json without a model type too) and BPE for Llama ones', async () => {
    expect(tokenizerTypeOf(await json(bertBaseTokenizerDir))).toBe('WordPiece');
    expect(autoTokenizer(await json(bertBaseTokenizerDir))).toBeInstanceOf(WordPieceTokenizer);
    expect(autoTokenizer(await json(sst2BertDir))).toBeInstanceOf(WordPieceTokenizer);
    expect(autoTokenizer(await json(storiesDir))).toBeInstanceOf(BpeTokenizer);
  });

  it('gives the ids the classes give, cut to maxLength through the same interface', async () => {
    const wordPiece: Tokenizer = autoTokenizer(await json(sst2BertDir), { maxLength: 8 });
    const bpe: Tokenizer = autoTokenizer(await json(storiesDir));
    const text = 'once upon a time there was a little dog who loved to run';
    expect(wordPiece.tokenize(text)).toEqual(WordPieceTokenizer.fromJson(await json(sst2BertDir), 8).tokenize(text));
    expect(wordPiece.tokenize(text).ids).toHaveLength(8);
    const whole = BpeTokenizer.fromJson(await json(storiesDir)).encode(text);
    expect(bpe.tokenize(text)).toEqual({ ids: whole, truncated: false });
    expect(bpe.tokenize(text, { maxLength: 5 })).toEqual({ ids: whole.slice(0, 5), truncated: true });
    expect(bpe.decode?.(whole)).toBe(text);
    expect(wordPiece.decode).toBeUndefined();
  });

  it('refuses a kind the caller cannot use with the reason its parser gives, and a kind built nowhere', async () => {
    const [bpe, wordPiece] = [await json(storiesDir), await json(sst2BertDir)];
    expect(() => autoTokenizer(bpe, { accept: ['WordPiece'] })).toThrow(/model type "BPE" is not supported \(WordPiece only\)/);
    expect(() => autoTokenizer(wordPiece, { accept: ['BPE'] })).toThrow(/not a BPE tokenizer/);
    expect(() => autoTokenizer({ model: { type: 'Unigram', vocab: [] } })).toThrow(TokenizerFormatError);
    expect(() => autoTokenizer({ model: { type: 'Unigram', vocab: [] } })).toThrow(/"Unigram" is not supported \(WordPiece or BPE only\)/);
    expect(() => autoTokenizer({}, { accept: ['WordPiece'] })).toThrow(/no "model" section/);
  });
});
