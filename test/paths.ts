import { resolve } from 'node:path';
import { repoRoot, sharedDir, sst2Dir } from '../functions/node/shared-paths.js';

export { repoRoot, sharedDir, sst2Dir };
/** The transformer sst2-bert@3 (alias sentiment-transformer): a BERT-family folder for the engine's tests. */
export const sst2BertDir = resolve(repoRoot, 'models', 'sst2-bert');
/** The registry's default sentiment model. */
export const defaultModelDir = resolve(repoRoot, 'models', 'sst2-glove-bilstm-v2');
export const bertBaseTokenizerDir = resolve(sharedDir, 'tokenizers', 'bert-base-uncased');
export const devTsv = resolve(sst2Dir, 'dev.tsv');
export const storiesDir = resolve(sharedDir, 'models', 'stories260K');
