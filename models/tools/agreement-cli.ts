/**
 * npx tsx models/tools/agreement-cli.ts <model folder> [--variant model_quantized] [--data dev.tsv]
 * Scores every sentence, one per run, with the variant on onnxruntime-web (WASM), onnxruntime-node and the
 * transformers.js pipeline (its own onnxruntime-node), and compares each with fp32 on WASM and with each other.
 */
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { env, pipeline } from '@xenova/transformers';
import { applyScoreFunction } from '../../functions/engine/classification/scores.js';
import { loadClassifier, type OrtBackend } from '../../functions/node/load-classifier.js';
import { runCli, UsageError } from '../../functions/node/cli.js';
import { argmax } from './classification-metrics.js';
import { readLabelledTsv } from './labelled-tsv.js';
import { scoreAgreement } from './score-agreement.js';
import { sst2Dir } from '../../functions/node/shared-paths.js';

type Scores = number[][];

async function ortScores(folder: string, variant: string, backend: OrtBackend, texts: string[]): Promise<Scores> {
  const classifier = await loadClassifier(folder, { variant, backend });
  const scores: Scores = [];
  for (const text of texts) scores.push(applyScoreFunction((await classifier.classify([text])).logits[0]!, 'softmax'));
  return scores;
}

type Pipeline = (texts: string[], options: { topk: number }) => Promise<{ label: string; score: number }[][]>;

async function pipelineScores(folder: string, quantized: boolean, labels: string[], texts: string[]): Promise<Scores> {
  Object.assign(env, { allowRemoteModels: false, allowLocalModels: true, localModelPath: dirname(folder) + '/' });
  const classify = (await pipeline('text-classification', basename(folder), { quantized })) as unknown as Pipeline;
  const scores: Scores = [];
  for (const text of texts) {
    const byLabel = new Map((await classify([text], { topk: labels.length }))[0]!.map((s) => [s.label, s.score]));
    scores.push(labels.map((label) => byLabel.get(label)!));
  }
  return scores;
}

runCli(async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { variant: { type: 'string', default: 'model_quantized' }, data: { type: 'string', default: join(sst2Dir, 'dev.tsv') } },
  });
  const folder = positionals[0];
  if (!folder || positionals.length > 1) throw new UsageError('usage: npx tsx models/tools/agreement-cli.ts <model folder> [--variant model_quantized] [--data file.tsv]');
  const rows = await readLabelledTsv(values.data);
  const texts = rows.map((r) => r.text);
  const { labels } = await loadClassifier(folder, { variant: 'model' });
  const reference = await ortScores(folder, 'model', 'wasm', texts);
  const runtimes: [string, Scores][] = [
    ['onnxruntime-web (WASM)', await ortScores(folder, values.variant, 'wasm', texts)],
    ['onnxruntime-node', await ortScores(folder, values.variant, 'node', texts)],
    ['transformers.js pipeline', await pipelineScores(folder, values.variant !== 'model', labels, texts)],
  ];
  console.log(`${values.variant} in ${folder} on ${rows.length} rows of ${values.data}, one sentence per run; reference: model (fp32) on WASM`);
  console.log('| runtime | accuracy % | max |score − fp32| | mean | labels ≠ fp32 | max |score − WASM| | labels ≠ WASM |\n|---|---|---|---|---|---|---|');
  for (const [name, scores] of runtimes) {
    const accuracy = scores.filter((s, i) => argmax(s) === rows[i]!.label).length / rows.length;
    const [vsFp32, vsWeb] = [scoreAgreement(scores, reference), scoreAgreement(scores, runtimes[0]![1])];
    console.log(`| ${name} | ${(100 * accuracy).toFixed(2)} | ${vsFp32.maxDiff.toFixed(4)} | ${vsFp32.meanDiff.toFixed(5)} | ${vsFp32.labelsDiffering} | ${vsWeb.maxDiff.toFixed(4)} | ${vsWeb.labelsDiffering} |`);
  }
});
