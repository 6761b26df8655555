import { resolve } from 'node:path';
import { repoRoot, sharedDir, sst2Dir } from '../functions/node/shared-paths.js';

export { repoRoot, sharedDir, sst2Dir };
export const defaultModelDir = resolve(repoRoot, 'models', 'sst2-bert');
export const bertBaseTokenizerDir = resolve(sharedDir, 'tokenizers', 'bert-base-uncased');
export const devTsv = resolve(sst2Dir, 'dev.tsv');
export const storiesDir = resolve(sharedDir, 'models', 'stories260K');
