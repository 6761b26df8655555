import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { env, pipeline } from '@xenova/transformers';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rankLabels } from '../../functions/engine/classification/scores.js';
import type { TextEmbedder } from '../../functions/engine/tasks/text-embedder.js';
import { loadEdgeEngines } from '../../functions/engine/loading/load-edge-engines.js';
import { folderReader, nodeSessionFactory } from '../../functions/node/load-classifier.js';
import { Registry } from '../../functions/registry/registry.js';
import { EXPORTED_ONNX, exportFolder } from '../../functions/tuning/export/export-folder.js';
import { archiveName, zipFolder } from '../../functions/tuning/export/zip.js';
import { HeadClassifier } from '../../functions/tuning/serving/head-classifier.js';
import type { ClassifierHead } from '../../functions/tuning/trainer/classifier-head.js';
import type { TrainingResult } from '../../functions/tuning/tuning-types.js';
import { readLabelledTsv } from '../../models/tools/labelled-tsv.js';
import { devTsv, repoRoot, sst2Dir } from '../paths.js';

const modelsDir = join(repoRoot, 'models');
const BASE = 'electra-imdb-small@1';
const NAME = 'ft:electra-imdb-small:open:reviews:ftjob-0123456789abcdefghijklmn';
// Not in alphabetical order, so a label map that sorts or shifts them gives other scores.
const LABELS = ['positive', 'negative', 'mixed'];
const TOLERANCE = 1e-4;

const registry = Registry.parse(JSON.parse(await readFile(join(modelsDir, 'registry.json'), 'utf8')));

type Pipeline = (text: string, options: { topk: number }) => Promise<{ label: string; score: number }[]>;

const result: TrainingResult = {
  labels: LABELS, trainRows: 80, holdoutRows: 20, holdoutAccuracy: 0.75,
  perLabel: LABELS.map((label) => ({ label, precision: 0.5, recall: 0.5, support: 5 })),
  majorityBaseline: { label: 'positive', accuracy: 0.5 }, trainedTokens: 1234, epochs: 3, steps: 12, featureMs: 1, trainingMs: 1,
};

/**
 * A head with a real signal, fitted in the test so that it depends on no trainer: the two SST-2 class centroids of
 * the encoder's features (80 train rows), scaled into a few logits' range, and a third label between them.
 */
async function centroidHead(embedder: TextEmbedder): Promise<ClassifierHead> {
  const rows = (await readLabelledTsv(join(sst2Dir, 'train.tsv'))).slice(0, 80);
  const vectors = (await embedder.embed(rows.map((r) => r.text))).map((e) => e.vector);
  const d = embedder.dimensions;
  const centroid = (label: number) => {
    const members = vectors.filter((_, i) => rows[i]!.label === label);
    return Float64Array.from({ length: d }, (_, j) => members.reduce((s, v) => s + v[j]!, 0) / members.length);
  };
  const [negative, positive] = [centroid(0), centroid(1)];
  const direction = Float64Array.from(positive, (p, j) => p - negative[j]!);
  const middle = Float64Array.from(positive, (p, j) => (p + negative[j]!) / 2);
  const scale = 4 / Math.sqrt(direction.reduce((s, x) => s + x * x, 0));
  const weights = new Float32Array(LABELS.length * d);
  const bias = new Float32Array(LABELS.length);
  [1, -1, 0.2].forEach((sign, k) => {
    for (let j = 0; j < d; j++) weights[k * d + j] = sign * scale * direction[j]!;
    bias[k] = -sign * scale * direction.reduce((s, x, j) => s + x * middle[j]!, 0) + (k === 2 ? 0.5 : 0);
  });
  return { base: BASE, labels: LABELS, dimensions: d, weights, bias };
}

describe('an exported tenant model in the transformers.js pipeline', () => {
  const readerFor = (model: { folder?: string }) => folderReader(join(modelsDir, model.folder!));
  let served: HeadClassifier;
  let files: Map<string, Uint8Array>;
  let reference: Pipeline;
  let dir: string;

  beforeAll(async () => {
    const engines = await loadEdgeEngines(registry, { readerFor, createSession: nodeSessionFactory('wasm') });
    const embedder = engines['feature-extraction'].get(BASE)!;
    const head = await centroidHead(embedder);
    served = new HeadClassifier(head, embedder);
    const base = registry.resolve(BASE)!;
    files = await exportFolder({ name: NAME, jobId: 'ftjob-0123456789abcdefghijklmn', head, result, base: { ref: BASE, read: readerFor(base), onnxFile: base.onnx! } });

    dir = await mkdtemp(join(tmpdir(), 'export-pipeline-'));
    const root = archiveName(NAME);
    const unzipped = unzipSync(zipFolder(files, { root, modified: new Date(1_800_000_000_000) }));
    for (const [path, bytes] of Object.entries(unzipped)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), bytes);
    }
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = `${dir}/`;
    reference = (await pipeline('text-classification', root, { quantized: true, local_files_only: true })) as unknown as Pipeline;
  }, 120_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('holds one folder with the config, the tokenizer, the merged int8 model and a card', () => {
    expect([...files.keys()].sort()).toEqual(['README.md', 'config.json', EXPORTED_ONNX, 'tokenizer.json', 'tokenizer_config.json'].sort());
    const config = JSON.parse(new TextDecoder().decode(files.get('config.json'))) as Record<string, unknown>;
    expect(config).toMatchObject({
      model_type: 'bert', architectures: ['BertForSequenceClassification'], problem_type: 'single_label_classification',
      id2label: { 0: 'positive', 1: 'negative', 2: 'mixed' }, label2id: { positive: 0, negative: 1, mixed: 2 }, hidden_size: 192,
    });
    const card = new TextDecoder().decode(files.get('README.md'));
    for (const text of [NAME, 'ftjob-0123456789abcdefghijklmn', BASE, '0: "positive", 1: "negative", 2: "mixed"', 'accuracy: 75.00 %', 'int8', 'float32', 'truncates a text to 128 tokens']) {
      expect(card).toContain(text);
    }
  });

  it(`gives the served model's scores within ${TOLERANCE} for 20 SST-2 dev sentences, one at a time on both sides`, async () => {
    // One text per run on both sides: int8 activations are quantized with a scale taken from the whole batch.
    const texts = (await readLabelledTsv(devTsv)).slice(0, 20).map((r) => r.text);
    let largest = 0;
    let spread = 0;
    for (const text of texts) {
      const ours = rankLabels((await served.classify([text]))[0]!.logits, LABELS);
      const theirs = await reference(text, { topk: LABELS.length });
      for (const { label, score } of ours) {
        const other = theirs.find((t) => t.label === label);
        expect(other, `label ${label} in the pipeline's answer`).toBeDefined();
        largest = Math.max(largest, Math.abs(other!.score - score));
      }
      spread = Math.max(spread, ours[0]!.score - ours[ours.length - 1]!.score);
    }
    expect(largest).toBeLessThan(TOLERANCE);
    // Scores that all sat at 1/3 would agree whatever the head: the head must separate the labels.
    expect(spread).toBeGreaterThan(0.3);
  });
});
