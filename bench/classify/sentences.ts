/** The benchmark's inputs: SST-2 dev sentences (from ../shared), one per request. */
import { resolve } from 'node:path';
import { readLabelledTsv } from '../../models/tools/labelled-tsv.js';
import { repoRoot, sst2Dir } from '../../functions/node/shared-paths.js';

/** int8 sst2-bert@3: what transformers.js can load too (bench:edge-engine compares on it). */
export const defaultModelDir = resolve(repoRoot, 'models', 'sst2-bert');
/** The registry's default model (sentiment): the GloVe BiLSTM. */
export const bilstmDir = resolve(repoRoot, 'models', 'sst2-glove-bilstm-v2');

export async function devSentences(count: number): Promise<string[]> {
  const rows = await readLabelledTsv(resolve(sst2Dir, 'dev.tsv'));
  return rows.slice(0, count).map((row) => row.text);
}
