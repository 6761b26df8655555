/** The default model's tokenizer (ours, which gives transformers.js' ids), for the arms that take pre-tokenised input. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseClassifierConfig } from '../../functions/engine/model-config.js';
import { autoTokenizer } from '../../functions/engine/tokenizer/auto-tokenizer.js';
import { defaultModelDir } from '../classify/sentences.js';

export async function sentenceIds(): Promise<{ (text: string): number[]; padId: number }> {
  const read = async (name: string) => JSON.parse(await readFile(join(defaultModelDir, name), 'utf8')) as unknown;
  const config = parseClassifierConfig(await read('config.json'), await read('tokenizer_config.json'));
  const tokenizer = autoTokenizer(await read('tokenizer.json'), { accept: ['WordPiece'], maxLength: config.maxLength });
  return Object.assign((text: string) => tokenizer.tokenize(text).ids, { padId: tokenizer.padId });
}
