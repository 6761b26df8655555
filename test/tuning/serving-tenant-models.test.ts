// Tenant models served over the shared encoder: a head trained on real SST-2 rows with the real electra-imdb-small
// encoder, stored in a real SQLite file, answered by StoredTenantModels and by the app's routes.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app/create-app.js';
import type { TextEmbedder } from '../../functions/engine/tasks/text-embedder.js';
import { loadEdgeEngines } from '../../functions/engine/loading/load-edge-engines.js';
import { Registry } from '../../functions/registry/registry.js';
import { migrationsDir } from '../../functions/node/billing-setup.js';
import { FolderBlobStore } from '../../functions/node/folder-blob-store.js';
import { folderReader, nodeSessionFactory } from '../../functions/node/load-classifier.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import { encodeHead, headLogits, type ClassifierHead } from '../../functions/tuning/trainer/classifier-head.js';
import { EmbeddingTrainer } from '../../functions/tuning/trainer/train-classifier.js';
import type { LabelledText } from '../../functions/tuning/trainer/trainer.js';
import { SqlTuningStore } from '../../functions/tuning/sql-tuning-store.js';
import { StoredTenantModels } from '../../functions/tuning/serving/tenant-models.js';
import type { TenantModelRecord } from '../../functions/tuning/tuning-types.js';
import { repoRoot, sst2Dir } from '../paths.js';
import { jobRecord } from './store-records.js';

const modelsDir = resolve(repoRoot, 'models');
const BASE = 'electra-imdb-small@1';
const registry = Registry.parse(JSON.parse(readFileSync(join(modelsDir, 'registry.json'), 'utf8')));

function sst2Rows(count: number): LabelledText[] {
  return readFileSync(join(sst2Dir, 'train.tsv'), 'utf8').split('\n').slice(1, 1 + count).map((line) => {
    const [text, label] = line.split('\t');
    return { text: text!.trim(), label: label!.trim() === '1' ? 'positive' : 'negative' };
  });
}

let dir: string;
let db: Awaited<ReturnType<typeof openSqlite>>;
let store: SqlTuningStore;
let embedder: TextEmbedder;
let head: ClassifierHead;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-maas-serving-'));
  db = await openSqlite(join(dir, 'tuning.sqlite'), migrationsDir);
  store = new SqlTuningStore(db, new FolderBlobStore(join(dir, 'blobs')));
  const engines = await loadEdgeEngines(registry, { readerFor: (m) => folderReader(join(modelsDir, m.folder!)), createSession: nodeSessionFactory('wasm') });
  embedder = engines['feature-extraction'].get(BASE)!;
  const rows = sst2Rows(200);
  const trainer = new EmbeddingTrainer({ embedderFor: async () => embedder });
  ({ head } = await trainer.train({ base: BASE, rows, validation: null, labels: ['negative', 'positive'], hyperparameters: { nEpochs: 3, batchSize: 16, learningRateMultiplier: 1 }, seed: 7 }));
}, 120_000);
afterAll(async () => {
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A succeeded job of the tenant and its stored model. */
async function storedModel(tenantId: string, suffix = 'reviews'): Promise<TenantModelRecord> {
  const job = jobRecord(tenantId, { status: 'succeeded', suffix });
  const name = `ft:electra-imdb-small:${tenantId}:${suffix}:${job.id}`;
  await store.insertJob({ ...job, fineTunedModel: name });
  const record: TenantModelRecord = { name, tenantId, jobId: job.id, base: BASE, labels: head.labels, head: encodeHead(head), createdAt: 1_800_000_123 };
  await store.insertModel(record);
  return record;
}

const models = (options: Partial<ConstructorParameters<typeof StoredTenantModels>[0]> = {}) =>
  new StoredTenantModels({ store, registry, embedders: new Map([[BASE, embedder]]), ...options });

describe('StoredTenantModels', () => {
  it("serves the owner's model as the shared encoder's features through its head, priced and limited as its base", async () => {
    const record = await storedModel('acme');
    const served = await models().resolve(record.name, 'acme');
    expect(served).not.toBeNull();
    const base = registry.resolve(BASE)!;
    expect(served!.entry).toMatchObject({ id: record.name, task: 'text-classification', runtime: 'edge-wasm', labels: ['negative', 'positive'], maxTokens: base.maxTokens, maxBatch: base.maxBatch, price: base.price });
    expect(served!.ownedBy).toBe('acme');
    expect(served!.created).toBe(1_800_000_123);
    const texts = ['a wonderful , heartfelt film .', 'a dull , lifeless mess .'];
    const results = await served!.classifier.classify(texts);
    const expected = (await embedder.embed(texts)).map((e) => headLogits(head, e.vector));
    expect(results.map((r) => Array.from(r.logits))).toEqual(expected.map((l) => Array.from(l)));
    expect(results.map((r) => r.tokens)).toEqual(embedder.countTokens(texts));
  });

  it("answers another tenant, and open mode, as if the model did not exist, and lists it to its owner only", async () => {
    const record = await storedModel('beta');
    const tenantModels = models();
    expect(await tenantModels.resolve(record.name, 'gamma')).toBeNull();
    expect(await tenantModels.resolve(record.name, null)).toBeNull();
    expect((await tenantModels.list('beta')).map((m) => m.entry.id)).toEqual([record.name]);
    expect((await tenantModels.list('gamma')).map((m) => m.entry.id)).toEqual([]);
    expect(await tenantModels.remove(record.name, 'gamma')).toBe(false);
    expect(await tenantModels.resolve(record.name, 'beta')).not.toBeNull();
  });

  it('refuses a model whose job has not succeeded with 409 and the status, to its owner only', async () => {
    const job = jobRecord('delta', { status: 'running' });
    await store.insertJob(job);
    const name = `ft:electra-imdb-small:delta:reviews:${job.id}`;
    const tenantModels = models();
    await expect(tenantModels.resolve(name, 'delta')).rejects.toMatchObject({ status: 409, code: 'model_not_ready', message: expect.stringContaining('running') });
    expect(await tenantModels.resolve(name, 'epsilon')).toBeNull();
    // A name that is not the one of its job.
    expect(await tenantModels.resolve('ft:electra-imdb-small:delta:reviews:ftjob-000000000000000000000000', 'delta')).toBeNull();
  });

  it('answers the model of a failed or cancelled job with 404 saying how the job ended, to its owner only', async () => {
    const tenantModels = models();
    for (const status of ['failed', 'cancelled'] as const) {
      const job = jobRecord('theta', { status });
      await store.insertJob(job);
      const name = `ft:electra-imdb-small:theta:reviews:${job.id}`;
      await expect(tenantModels.resolve(name, 'theta')).rejects.toMatchObject({
        status: 404, code: 'model_not_found', param: 'model', message: expect.stringContaining(`${job.id} ended ${status}`),
      });
      expect(await tenantModels.resolve(name, 'iota')).toBeNull();
    }
  });

  it('decodes a head once: later requests reuse the same classifier', async () => {
    const record = await storedModel('zeta');
    const tenantModels = models();
    const first = await tenantModels.resolve(record.name, 'zeta');
    const again = await tenantModels.resolve(record.name, 'zeta');
    expect(again!.classifier).toBe(first!.classifier);
  });

  it('a delete through it answers 404 at once; one made by another instance once its trust has run out', async () => {
    const record = await storedModel('eta');
    let now = 0;
    const here = models({ now: () => now, trustForMs: 1_000 });
    expect(await here.resolve(record.name, 'eta')).not.toBeNull();
    expect(await models().remove(record.name, 'eta')).toBe(true); // another instance on the same store
    expect(await here.resolve(record.name, 'eta')).not.toBeNull();
    now = 1_000;
    expect(await here.resolve(record.name, 'eta')).toBeNull();

    const other = await storedModel('eta', 'second');
    expect(await here.resolve(other.name, 'eta')).not.toBeNull();
    expect(await here.remove(other.name, 'eta')).toBe(true);
    expect(await here.resolve(other.name, 'eta')).toBeNull();
    expect(await here.list('eta')).toEqual([]);
  });
});

describe('the app with tenant models (open mode: the "open" tenant)', () => {
  it('classifies, lists, describes and deletes the tenant model over the routes', async () => {
    const record = await storedModel('open');
    const app = createApp({ registry, engines: new Map(), isReady: () => true, tenantModels: models() });
    const post = (path: string, body: unknown) => app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    const texts = ['a wonderful , heartfelt film .', 'a dull , lifeless mess .'];
    const classified = await post('/v1/classify', { model: record.name, input: texts });
    expect(classified.status).toBe(200);
    const body = await classified.json() as { model: string; results: { label: string; score: number }[][]; truncated: boolean[] };
    expect(body.model).toBe(record.name);
    const best = (await embedder.embed(texts)).map((e) => { const l = headLogits(head, e.vector); return head.labels[l[1]! > l[0]! ? 1 : 0]; });
    expect(body.results.map((r) => r[0]!.label)).toEqual(best);
    for (const scores of body.results) expect(scores.reduce((sum, s) => sum + s.score, 0)).toBeCloseTo(1, 6);
    expect(body.truncated).toEqual([false, false]);

    const hf = await post(`/models/${encodeURIComponent(record.name)}`, { inputs: texts[1], parameters: { top_k: 1 } });
    // The same text alone on /v1/classify: int8 dynamic quantization makes a vector depend on its batch mates.
    const alone = await (await post('/v1/classify', { model: record.name, input: texts[1], top_k: 1 })).json() as typeof body;
    expect(await hf.json()).toEqual(alone.results);
    expect(alone.results[0]![0]!.label).toBe(best[1]);

    const list = await (await app.request('/v1/models')).json() as { data: { id: string; owned_by: string; created: number }[] };
    expect(list.data.find((m) => m.id === record.name)).toMatchObject({ owned_by: 'open', created: 1_800_000_123 });
    expect(list.data.find((m) => m.id === BASE)).toMatchObject({ owned_by: 'system', created: 0 });
    expect(await (await app.request(`/v1/models/${encodeURIComponent(record.name)}`)).json()).toMatchObject({ id: record.name, labels: ['negative', 'positive'] });

    expect((await post('/v1/classify', { model: record.name, input: Array(65).fill('x') })).status).toBe(400); // the base's max_batch
    const deleted = await app.request(`/v1/models/${encodeURIComponent(record.name)}`, { method: 'DELETE' });
    expect(await deleted.json()).toEqual({ id: record.name, object: 'model', deleted: true });
    for (const answer of [
      await post('/v1/classify', { model: record.name, input: 'x' }),
      await app.request(`/v1/models/${encodeURIComponent(record.name)}`),
      await app.request(`/v1/models/${encodeURIComponent(record.name)}`, { method: 'DELETE' }),
    ]) {
      expect(answer.status).toBe(404);
      expect(await answer.json()).toMatchObject({ error: { code: 'model_not_found' } });
    }
    const registryDelete = await app.request(`/v1/models/${BASE}`, { method: 'DELETE' });
    expect(registryDelete.status).toBe(403);
    expect(await registryDelete.json()).toMatchObject({ error: { code: 'cannot_delete_model' } });
  });

  it("answers a cancelled job's model with 404 model_not_found on both classify routes", async () => {
    const job = jobRecord('open', { status: 'cancelled' });
    await store.insertJob(job);
    const name = `ft:electra-imdb-small:open::${job.id}`;
    const app = createApp({ registry, engines: new Map(), isReady: () => true, tenantModels: models() });
    for (const [path, body] of [['/v1/classify', { model: name, input: 'x' }], [`/models/${encodeURIComponent(name)}`, { inputs: 'x' }]] as const) {
      const answer = await app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(answer.status).toBe(404);
      expect(await answer.json()).toMatchObject({ error: { code: 'model_not_found', param: 'model', message: expect.stringContaining('ended cancelled') } });
    }
  });

  it('answers a still-training model with 409 on both classify routes', async () => {
    const job = jobRecord('open', { status: 'queued' });
    await store.insertJob(job);
    const name = `ft:electra-imdb-small:open::${job.id}`;
    const app = createApp({ registry, engines: new Map(), isReady: () => true, tenantModels: models() });
    for (const [path, body] of [['/v1/classify', { model: name, input: 'x' }], [`/models/${encodeURIComponent(name)}`, { inputs: 'x' }]] as const) {
      const answer = await app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(answer.status).toBe(409);
      expect(await answer.json()).toMatchObject({ error: { code: 'model_not_ready', message: expect.stringContaining('queued') } });
    }
  });
});
