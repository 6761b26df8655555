/**
 * Two model folders' int8 latency in one process, each sentence classified by both, the order alternating, so
 * that a loaded machine slows both alike (edge-fill's check that a bigger table is not slower: it is looked up).
 * Usage: npx tsx models/recipes/sentiment-v3/paired-latency.ts <folder A> <folder B> <labelled tsv> [rounds]
 */
import { readFile } from 'node:fs/promises';
import { loadClassifier } from '../../../functions/node/load-classifier.js';

const [folderA, folderB, tsv, roundsArg] = process.argv.slice(2);
if (!folderA || !folderB || !tsv) {
  console.error('usage: npx tsx models/recipes/sentiment-v3/paired-latency.ts <folder A> <folder B> <labelled tsv> [rounds]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 2);
const rows = (await readFile(tsv, 'utf8')).trim().split('\n').slice(1).map((line) => line.split('\t')[0]!);
const load = (folder: string) => loadClassifier(folder, { variant: 'model_quantized', backend: 'wasm', threads: 1 });
const [a, b] = [await load(folderA), await load(folderB)];
const time = async (model: typeof a, text: string) => {
  const started = performance.now();
  await model.classify([text]);
  return performance.now() - started;
};
for (const text of rows.slice(0, 50)) await Promise.all([a.classify([text]), b.classify([text])]); // warm-up
let [totalA, totalB] = [0, 0];
for (let round = 0; round < rounds; round++) {
  for (const [i, text] of rows.entries()) {
    if ((i + round) % 2) { totalA += await time(a, text); totalB += await time(b, text); }
    else { totalB += await time(b, text); totalA += await time(a, text); }
  }
}
const n = rounds * rows.length;
console.log(`A ${(totalA / n).toFixed(3)} ms, B ${(totalB / n).toFixed(3)} ms a sentence, B/A ${(totalB / totalA).toFixed(3)} (${n} paired runs)`);
