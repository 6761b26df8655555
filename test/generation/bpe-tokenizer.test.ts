import { readFile } from 'node:fs/promises';
import { AutoTokenizer, env } from '@xenova/transformers';
import { describe, expect, it } from 'vitest';
import { BpeTokenizer } from '../../functions/engine/tokenizer/bpe-tokenizer.js';
import { TokenizerFormatError } from '../../functions/engine/tokenizer/tokenizer-json.js';
import { storiesDir } from '../paths.js';

const TEXTS = ['Once upon a time', 'Hello, world! 123', 'naïve café — ünïcödé 日本 🙂', '  two  spaces ', '', "Lily's dog \"Max\" ran.\nThen\tstopped."];

describe('BpeTokenizer (Llama / SentencePiece BPE with byte fallback)', () => {
  it('gives the ids of transformers.js and decodes them back to the text', async () => {
    env.allowRemoteModels = false;
    env.localModelPath = `${storiesDir}/../`;
    const reference = await AutoTokenizer.from_pretrained('stories260K');
    const ours = BpeTokenizer.fromJson(JSON.parse(await readFile(`${storiesDir}/tokenizer.json`, 'utf8')));
    for (const text of TEXTS) {
      const ids = ours.encode(text);
      expect(ids, text).toEqual(Array.from(reference.encode(text) as number[]));
      expect(ours.decode(ids)).toBe(text);
    }
  });

  it('refuses tokenizers it cannot run with a clear reason', () => {
    expect(() => BpeTokenizer.fromJson({ model: { type: 'WordPiece', vocab: {} } })).toThrow(TokenizerFormatError);
    expect(() => BpeTokenizer.fromJson({ model: { type: 'BPE', vocab: { '<s>': 1 }, merges: [] } })).toThrow(/byte-fallback/);
  });
});
