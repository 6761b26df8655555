/** The benchmark's inputs: SST-2 dev sentences (from ../shared), one per request. */
import { resolve } from 'node:path';
import { readLabelledTsv } from '../../models/tools/labelled-tsv.js';
import { repoRoot, sst2Dir } from '../../functions/node/shared-paths.js';

export const defaultModelDir = resolve(repoRoot, 'models', 'sst2-bert');

export async function devSentences(count: number): Promise<string[]> {
  const rows = await readLabelledTsv(resolve(sst2Dir, 'dev.tsv'));
  return rows.slice(0, count).map((row) => row.text);
}
