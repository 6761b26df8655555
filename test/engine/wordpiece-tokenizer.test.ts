import { readFile } from 'node:fs/promises';
import { BertTokenizer } from '@xenova/transformers';
import { describe, expect, it } from 'vitest';
import { WordPieceTokenizer } from '../../functions/engine/tokenizer/wordpiece-tokenizer.js';
import { readLabelledTsv } from '../../models/tools/labelled-tsv.js';
import { bertBaseTokenizerDir, sst2BertDir, devTsv } from '../paths.js';

const tricky = [
  'Hello, World! It\'s a "great" day... isn\'t it?',
  'Café naïve résumé über façade — déjà vu',
  'tabs\tand\nnewlines\r\nand   spaces',
  'emoji 😀 and symbols $100 & 50% off #1 @home',
  '中文字符和English混合',
  'supercalifragilisticexpialidocious antidisestablishmentarianism',
  'zero\u200bwidth and control\u0007chars',
  'UPPER lower MiXeD',
  '',
  '   ',
  'a'.repeat(150),
];

async function pair(folder: string, maxLength: number) {
  const json = JSON.parse(await readFile(`${folder}/tokenizer.json`, 'utf8'));
  const config = JSON.parse(await readFile(`${folder}/tokenizer_config.json`, 'utf8'));
  // bert-base-uncased's tokenizer.json predates the model "type" field, which transformers.js v2 needs to pick
  // WordPiece; ours infers it.
  const reference = new BertTokenizer({ ...json, model: { type: 'WordPiece', ...json.model } }, config);
  const ours = WordPieceTokenizer.fromJson(json, maxLength);
  const referenceIds = (text: string): number[] => Array.from(reference(text).input_ids.data as BigInt64Array, Number);
  return { ours, referenceIds };
}

describe('WordPieceTokenizer gives the ids transformers.js gives', () => {
  it('for bert-base-uncased on every SST-2 dev sentence and on tricky text', async () => {
    const { ours, referenceIds } = await pair(bertBaseTokenizerDir, 512);
    const texts = [...(await readLabelledTsv(devTsv)).map((r) => r.text), ...tricky];
    const mismatches = texts.filter((t) => JSON.stringify(ours.tokenize(t).ids) !== JSON.stringify(referenceIds(t)));
    expect(mismatches).toEqual([]);
    expect(ours.tokenize('a'.repeat(150)).ids).toEqual([ours.clsId, ours.unkId, ours.sepId]);
  });

  it('for the default model on every SST-2 dev sentence and on tricky text', async () => {
    const { ours, referenceIds } = await pair(sst2BertDir, 128);
    const texts = [...(await readLabelledTsv(devTsv)).map((r) => r.text), ...tricky];
    for (const text of texts) expect(ours.tokenize(text).ids).toEqual(referenceIds(text));
  });

  it('truncates long text to the model maximum and keeps the final [SEP], and says so', async () => {
    // Hugging Face tokenizers keep [SEP] when truncating, and the recipe trained that way; transformers.js v2 cuts
    // the [SEP] off instead, so the reference here is its untruncated encoding.
    const { ours, referenceIds } = await pair(sst2BertDir, 128);
    const long = 'this film is a wonderful surprise . '.repeat(60);
    const encoded = ours.tokenize(long);
    expect(encoded.truncated).toBe(true);
    expect(encoded.ids).toHaveLength(128);
    expect(encoded.ids.slice(0, 127)).toEqual(referenceIds(long).slice(0, 127));
    expect(encoded.ids[127]).toBe(ours.sepId);
    expect(ours.tokenize('short text').truncated).toBe(false);
  });

  it('reads long text window by window with the ids of the whole text, and stops once the budget is full', async () => {
    const { ours, referenceIds } = await pair(bertBaseTokenizerDir, 1_000_000);
    // Texts far longer than a window, mixing every boundary a window may end at and runs it may not cut.
    const pieces = ['Café', 'naïve', 'über', 'déjà', '中文字符', 'English', 'a'.repeat(130), '!', '...', '—', '\u00a0', '\t', '😀', 'e\u0301\u0301', 'ΣΑΣ', 'won\'t', '$100'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const texts = Array.from({ length: 20 }, () => Array.from({ length: 600 }, () => pieces[Math.floor(next() * pieces.length)]!).join(next() < 0.5 ? ' ' : ''));
    for (const text of texts) expect(ours.tokenize(text).ids).toEqual(referenceIds(text));
    // One megabyte of CJK text: 128 ids, at the cost of the first few hundred characters.
    const { ours: model } = await pair(sst2BertDir, 128);
    const huge = '日本語の文章'.repeat(170_000);
    const encoded = model.tokenize(huge);
    expect(encoded).toMatchObject({ truncated: true });
    expect(encoded.ids).toHaveLength(128);
  });

  it('rejects a tokenizer.json that is not WordPiece with a clear error', () => {
    expect(() => WordPieceTokenizer.fromJson({ model: { type: 'BPE', vocab: {}, merges: [] } }, 16)).toThrow(/BPE.*not supported/);
    expect(() => WordPieceTokenizer.fromJson({}, 16)).toThrow(/no "model" section/);
  });
});
