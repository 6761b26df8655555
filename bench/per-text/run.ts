/**
 * bench:per-text: what running each text in a session.run of its own costs the dynamically quantized int8 models
 * (functions/engine/loading/batch-dependence.ts: their answers would otherwise depend on their batch-mates), side by
 * side with whole batches over the same session, in one process: sst2-bert@3 and the fine-tuning encoder
 * electra-imdb-small@1, on both onnxruntime backends, 640 SST-2 training sentences of 8+ words in requests of 64,
 * median of 5 alternating rounds. Prints ms a text and the throughput ratio.
 */
import { resolve } from 'node:path';
import { SequenceClassifier } from '../../functions/engine/classification/sequence-classifier.js';
import { extractorFromFiles } from '../../functions/engine/features/extractor-from-files.js';
import { FeatureExtractor } from '../../functions/engine/features/feature-extractor.js';
import { folderReader, loadClassifier, nodeSessionFactory } from '../../functions/node/load-classifier.js';
import { repoRoot, sst2Dir } from '../../functions/node/shared-paths.js';
import { readLabelledTsv } from '../../models/tools/labelled-tsv.js';

const texts = (await readLabelledTsv(resolve(sst2Dir, 'train.tsv'))).filter((r) => r.text.split(' ').length >= 8).slice(0, 640).map((r) => r.text);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function compare(name: string, perText: (batch: string[]) => Promise<unknown>, batched: (batch: string[]) => Promise<unknown>) {
  const time = async (run: (batch: string[]) => Promise<unknown>) => {
    const started = performance.now();
    for (let i = 0; i < texts.length; i += 64) await run(texts.slice(i, i + 64));
    return performance.now() - started;
  };
  await time(perText);
  await time(batched);
  const [a, b] = [[] as number[], [] as number[]];
  for (let round = 0; round < 5; round++) {
    a.push(await time(perText));
    b.push(await time(batched));
  }
  const [perTextMs, batchedMs] = [median(a) / texts.length, median(b) / texts.length];
  console.log(`${name.padEnd(32)} per text ${perTextMs.toFixed(3)} ms a text, whole batches ${batchedMs.toFixed(3)} ms: per-text throughput ${(100 * batchedMs / perTextMs).toFixed(0)} % of batched`);
}

for (const backend of ['node', 'wasm'] as const) {
  const served = await loadClassifier(resolve(repoRoot, 'models', 'sst2-bert'), { variant: 'model_quantized', backend });
  // The same session and tokenizer, batched as before the per-text rule.
  const wholeBatches = new SequenceClassifier({ ...(served as unknown as ConstructorParameters<typeof SequenceClassifier>[0]), labels: served.labels, oneTextPerRun: false });
  await compare(`sst2-bert@3, ${backend}`, (batch) => served.classify(batch), (batch) => wholeBatches.classify(batch));
  const encoder = await extractorFromFiles({ read: folderReader(resolve(repoRoot, 'models', 'electra-imdb-small')), onnxFile: 'onnx/model_quantized.onnx', where: 'electra-imdb-small', createSession: nodeSessionFactory(backend) });
  const encoderBatches = new FeatureExtractor({ ...(encoder as unknown as ConstructorParameters<typeof FeatureExtractor>[0]), oneWindowPerRun: false });
  await compare(`electra-imdb-small@1, ${backend}`, (batch) => encoder.extract(batch), (batch) => encoderBatches.extract(batch));
}
