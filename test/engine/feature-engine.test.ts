import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app/create-app.js';
import type { MicroBatcherOptions } from '../../functions/engine/classification/micro-batcher.js';
import { EmbeddingEngine } from '../../functions/engine/features/embedding-engine.js';
import { extractorFromFiles } from '../../functions/engine/features/extractor-from-files.js';
import type { FeatureExtractor } from '../../functions/engine/features/feature-extractor.js';
import type { EdgeEngines } from '../../functions/engine/loading/edge-tasks.js';
import { loadEdgeEngines } from '../../functions/engine/loading/load-edge-engines.js';
import { parseEncoderConfig } from '../../functions/engine/model-config.js';
import { Registry } from '../../functions/registry/registry.js';
import { folderReader, nodeSessionFactory } from '../../functions/node/load-classifier.js';
import { repoRoot } from '../paths.js';

const modelsDir = resolve(repoRoot, 'models');
const encoderDir = join(modelsDir, 'electra-imdb-small');
const registry = Registry.parse(JSON.parse(await readFile(join(modelsDir, 'registry.json'), 'utf8')));
const texts = Array.from({ length: 10 }, (_, i) => (i % 2 ? `a dull , lifeless mess , take ${i} .` : `a wonderful , heartfelt film , take ${i} .`));

describe('parseEncoderConfig', () => {
  it('reads the window length (the smaller limit) and the vector width', () => {
    expect(parseEncoderConfig({ model_type: 'bert', hidden_size: 192, max_position_embeddings: 512 }, { model_max_length: 128 }))
      .toEqual({ modelType: 'bert', maxLength: 128, dimensions: 192 });
  });

  it.each([
    [null, /no model_type/],
    [{ model_type: 'bert' }, /no hidden_size/],
    [{ model_type: 'bert', hidden_size: 0 }, /no hidden_size/],
  ])('rejects %j', (value, message) => {
    expect(() => parseEncoderConfig(value)).toThrow(message);
  });
});

describe('loadEdgeEngines with the committed registry', () => {
  let engines: EdgeEngines;
  beforeAll(async () => {
    engines = await loadEdgeEngines(registry, { readerFor: (model) => folderReader(join(modelsDir, model.folder!)), createSession: nodeSessionFactory('wasm') });
  });

  it('gives the encoder an embedder, and the classifiers map only the classifiers', async () => {
    expect([...engines['feature-extraction'].keys()]).toEqual(['electra-imdb-small@1']);
    expect([...engines['text-classification'].keys()]).toEqual(['sst2-glove-bilstm@2', 'sst2-bert@3']);
    const embedder = engines['feature-extraction'].get('electra-imdb-small@1')!;
    expect(embedder.dimensions).toBe(192);
    const [result] = await embedder.embed(['a wonderful film']);
    expect(result!.vector).toHaveLength(192);
    expect(result).toMatchObject({ tokens: embedder.countTokens(['a wonderful film'])[0], windows: 1, truncated: false });
  });

  it('keeps the encoder out of /v1/classify and the Hugging Face route (400 wrong_task), and the default a classifier', async () => {
    const app = createApp({ registry, engines: engines['text-classification'], isReady: () => true });
    const post = (path: string, body: unknown) => app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const [path, body] of [['/v1/classify', { model: 'electra-imdb-small', input: 'good' }], ['/v1/classify', { model: 'encoder', input: 'good' }], ['/models/electra-imdb-small', { inputs: 'good' }]] as const) {
      const answer = await post(path, body);
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('wrong_task');
    }
    const byDefault = await post('/v1/classify', { input: 'good' });
    expect(byDefault.status).toBe(200);
    expect(((await byDefault.json()) as { model: string }).model).toBe('sst2-glove-bilstm@2');
  });
});

describe('EmbeddingEngine', () => {
  let extractor: FeatureExtractor;
  beforeAll(async () => {
    extractor = await extractorFromFiles({ read: folderReader(encoderDir), onnxFile: 'onnx/model.onnx', where: encoderDir, createSession: nodeSessionFactory('wasm') });
  });
  const engineWith = (batching: Partial<MicroBatcherOptions>, batchAcrossRequests = true) => {
    const batches: number[] = [];
    const engine = new EmbeddingEngine(extractor, {
      batching: { maxBatchSize: 4, maxWaitMs: 0, maxQueue: 64, maxQueueMs: Infinity, defer: setImmediate, onBatchStart: (size) => batches.push(size), ...batching },
      batchAcrossRequests,
    });
    return { engine, batches };
  };

  it('gives the extractor\'s vectors and token counts, one result per text in order', async () => {
    const { engine } = engineWith({});
    const results = await engine.embed(texts.slice(0, 3));
    const direct = await extractor.extract(texts.slice(0, 3));
    results.forEach((r, i) => {
      expect([...r.vector]).toEqual([...direct.vectors[i]!]);
      expect(r).toMatchObject({ tokens: direct.tokenCounts[i], windows: 1, truncated: false });
    });
    expect(engine.countTokens(texts.slice(0, 3))).toEqual(direct.tokenCounts);
    expect(await engine.embed([])).toEqual([]);
  });

  it('coalesces concurrent callers into shared batches', async () => {
    const { engine, batches } = engineWith({});
    const answers = await Promise.all([engine.embed(texts.slice(0, 2)), engine.embed(texts.slice(2, 3))]);
    expect(answers.map((a) => a.length)).toEqual([2, 1]);
    expect(batches).toEqual([3]);
  });

  it('queues a call larger than a batch one batch at a time, so it never fills a queue smaller than itself', async () => {
    const { engine, batches } = engineWith({ maxQueue: 4 });
    const results = await engine.embed(texts);
    expect(results).toHaveLength(10);
    expect(batches).toEqual([4, 4, 2]);
    const alone = await engine.embed([texts[9]!]);
    expect(Math.max(...results[9]!.vector.map((x, d) => Math.abs(x - alone[0]!.vector[d]!)))).toBeLessThan(1e-5);
  });

  it('refuses with the signal\'s reason: before it starts, and between two batches of a long call', async () => {
    const controller = new AbortController();
    const { engine, batches } = engineWith({ onBatchStart: (size) => { batches.push(size); controller.abort(new Error('cancelled')); } });
    await expect(engine.embed(texts, { signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone');
    expect(batches).toEqual([]);
    // The caller gives up while its first batch runs: that batch runs on, the next two are never queued.
    await expect(engine.embed(texts, { signal: controller.signal })).rejects.toThrow('cancelled');
    expect(batches).toEqual([4]);
  });

  it('with batchAcrossRequests false runs each call in its own turn, without the batcher', async () => {
    const { engine, batches } = engineWith({}, false);
    const answers = await Promise.all([engine.embed(texts.slice(0, 2)), engine.embed(texts.slice(2, 3))]);
    expect(answers.map((a) => a.length)).toEqual([2, 1]);
    expect(batches).toEqual([]);
  });
});
