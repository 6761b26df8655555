import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEdgeEngines } from '../../functions/engine/loading/load-edge-engines.js';
import { folderReader, nodeSessionFactory } from '../../functions/node/load-classifier.js';
import { Registry } from '../../functions/registry/registry.js';
import { resolveHyperparameters } from '../../functions/tuning/hyperparameters.js';
import { EmbeddingTrainer } from '../../functions/tuning/trainer/train-classifier.js';
import type { LabelledText } from '../../functions/tuning/trainer/trainer.js';
import { repoRoot, sst2Dir } from '../paths.js';

const modelsDir = resolve(repoRoot, 'models');
const BASE = 'electra-imdb-small@1';

async function sst2Rows(from: number, count: number): Promise<LabelledText[]> {
  const lines = (await readFile(resolve(sst2Dir, 'train.tsv'), 'utf8')).split('\n').slice(1 + from, 1 + from + count);
  return lines.map((line) => {
    const [text, label] = line.split('\t');
    return { text: text!.trim(), label: label!.trim() === '1' ? 'positive' : 'negative' };
  });
}

describe('EmbeddingTrainer over the real electra-imdb-small encoder', () => {
  it('trains on 300 SST-2 train rows with auto hyperparameters and beats the majority baseline on 200 other train rows', async () => {
    const registry = Registry.parse(JSON.parse(await readFile(join(modelsDir, 'registry.json'), 'utf8')));
    const engines = await loadEdgeEngines(registry, { readerFor: (model) => folderReader(join(modelsDir, model.folder!)), createSession: nodeSessionFactory('wasm') });
    const rows = await sst2Rows(0, 300);
    const validation = await sst2Rows(60_000, 200);
    const trainer = new EmbeddingTrainer({ embedderFor: async (base) => engines['feature-extraction'].get(base)! });
    const { head, result } = await trainer.train({
      base: BASE,
      rows,
      validation,
      labels: ['negative', 'positive'],
      hyperparameters: resolveHyperparameters(undefined, rows.length),
      seed: 1,
    });
    expect(head).toMatchObject({ base: BASE, dimensions: 192, labels: ['negative', 'positive'] });
    expect(result.holdoutRows).toBe(200);
    expect(result.holdoutAccuracy).toBeGreaterThan(result.majorityBaseline.accuracy + 0.04);
  });
});
