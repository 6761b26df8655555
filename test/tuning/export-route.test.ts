// GET /v1/models/{id}/export through a real HTTP server on 127.0.0.1: billing in keys mode (two tenants), the
// route over a real SQLite tuning store holding a succeeded job's model, and the committed base encoder's files.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { unzipSync } from 'fflate';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app/create-app.js';
import { billingPlugin } from '../../functions/billing/billing-plugin.js';
import { createKey, createTenant } from '../../functions/billing/key-admin.js';
import { migrationsDir, openBilling, type NodeBilling } from '../../functions/node/billing-setup.js';
import { FolderBlobStore } from '../../functions/node/folder-blob-store.js';
import { folderReader } from '../../functions/node/load-classifier.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import { Registry } from '../../functions/registry/registry.js';
import { ExportCache } from '../../functions/tuning/export/export-cache.js';
import { exportRoutes } from '../../functions/tuning/routes/export.js';
import { SqlTuningStore } from '../../functions/tuning/sql-tuning-store.js';
import { encodeHead, type ClassifierHead } from '../../functions/tuning/trainer/classifier-head.js';
import type { JobRecord, TrainingResult } from '../../functions/tuning/tuning-types.js';
import { repoRoot } from '../paths.js';
import { jobRecord } from './store-records.js';

const modelsDir = join(repoRoot, 'models');
const registry = Registry.parse(JSON.parse(await readFile(join(modelsDir, 'registry.json'), 'utf8')));
const BASE = 'electra-imdb-small@1';
const LABELS = ['spam', 'ham'];
const DIMENSIONS = 192;

const head: ClassifierHead = {
  base: BASE, labels: LABELS, dimensions: DIMENSIONS,
  weights: Float32Array.from({ length: LABELS.length * DIMENSIONS }, (_, i) => Math.cos(0.11 * i) * 0.3),
  bias: Float32Array.of(0.25, -0.25),
};
const result: TrainingResult = {
  labels: LABELS, trainRows: 90, holdoutRows: 10, holdoutAccuracy: 0.9,
  perLabel: [{ label: 'spam', precision: 1, recall: 0.8, support: 5 }, { label: 'ham', precision: 0.8333, recall: 1, support: 5 }],
  majorityBaseline: { label: 'spam', accuracy: 0.5 }, trainedTokens: 4321, epochs: 3, steps: 18, featureMs: 10, trainingMs: 5,
};

let dir: string;
let db: Awaited<ReturnType<typeof openSqlite>>;
let billing: NodeBilling;
let server: Server;
let url: string;
const keys: Record<string, string> = {};
let succeeded: JobRecord;
let running: JobRecord;
let modelName: string;
let store: SqlTuningStore;
const cache = new ExportCache();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-maas-export-route-'));
  const dbPath = join(dir, 'db.sqlite');
  billing = await openBilling({ mode: 'keys', dbPath });
  for (const tenant of ['acme', 'globex']) {
    await createTenant(billing.billing.store, { id: tenant }, Date.now());
    keys[tenant] = (await createKey(billing.billing.store, { tenant }, Date.now())).key;
  }
  db = await openSqlite(dbPath, migrationsDir);
  store = new SqlTuningStore(db, new FolderBlobStore(join(dir, 'blobs')));
  succeeded = jobRecord('acme', { status: 'succeeded', result });
  modelName = `ft:electra-imdb-small:acme:spam-filter:${succeeded.id}`;
  await store.insertJob({ ...succeeded, fineTunedModel: modelName });
  await store.insertModel({ name: modelName, tenantId: 'acme', jobId: succeeded.id, base: BASE, labels: LABELS, head: encodeHead(head), createdAt: 1_800_000_000 });
  running = jobRecord('acme', { status: 'running' });
  await store.insertJob(running);

  const exports = exportRoutes({ store, registry, readerFor: (model) => folderReader(join(modelsDir, model.folder!)), cache });
  const app = createApp({ registry, engines: new Map(), isReady: () => true, plugins: [billingPlugin({ billing: billing.billing }), { routes: [exports] }] });
  server = createServer(getRequestListener(app.fetch));
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((closed) => server?.close(closed));
  await billing?.close();
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

const download = (name: string, tenant = 'acme') =>
  fetch(`${url}/v1/models/${encodeURIComponent(name)}/export`, { headers: { authorization: `Bearer ${keys[tenant]}` } });

async function errorOf(answer: Response): Promise<{ code: string; message: string }> {
  expect(answer.headers.get('content-type')).toMatch(/application\/json/);
  return ((await answer.json()) as { error: { code: string; message: string } }).error;
}

describe('GET /v1/models/{id}/export', () => {
  it('answers the owner a zip of one transformers.js folder whose merged model runs and names its labels', async () => {
    const answer = await download(modelName);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/zip');
    const folder = `ft-electra-imdb-small-acme-spam-filter-${succeeded.id}`;
    expect(answer.headers.get('content-disposition')).toBe(`attachment; filename="${folder}.zip"`);
    const zip = new Uint8Array(await answer.arrayBuffer());
    expect(Number(answer.headers.get('content-length'))).toBe(zip.byteLength);
    const files = unzipSync(zip);
    expect(Object.keys(files).sort()).toEqual(['README.md', 'config.json', 'onnx/model_quantized.onnx', 'tokenizer.json', 'tokenizer_config.json'].map((f) => `${folder}/${f}`));
    expect(files[`${folder}/tokenizer.json`]).toEqual(new Uint8Array(await readFile(join(modelsDir, 'electra-imdb-small', 'tokenizer.json'))));
    const config = JSON.parse(new TextDecoder().decode(files[`${folder}/config.json`])) as { id2label: Record<string, string> };
    expect(config.id2label).toEqual({ 0: 'spam', 1: 'ham' });
    const card = new TextDecoder().decode(files[`${folder}/README.md`]);
    expect(card).toContain('accuracy: 90.00 %');
    expect(card).toContain('| ham | 83.33 % | 100.00 % | 5 |');

    const session = await ort.InferenceSession.create(files[`${folder}/onnx/model_quantized.onnx`]!, { intraOpNumThreads: 1 });
    const ids = new ort.Tensor('int64', BigInt64Array.from([101n, 2023n, 102n]), [1, 3]);
    const logits = (await session.run({ input_ids: ids, attention_mask: new ort.Tensor('int64', BigInt64Array.from([1n, 1n, 1n]), [1, 3]), token_type_ids: new ort.Tensor('int64', new BigInt64Array(3), [1, 3]) })).logits!;
    expect(logits.dims).toEqual([1, 2]);
  });

  it('gives the same archive bytes for the same model twice', async () => {
    const [first, second] = await Promise.all([download(modelName), download(modelName)]);
    expect(Buffer.from(await first.arrayBuffer()).equals(Buffer.from(await second.arrayBuffer()))).toBe(true);
  });

  it('builds a model\'s zip once and serves it from memory after, until the model is deleted', async () => {
    expect(cache.size).toBe(1); // the exports above
    for (let i = 0; i < 3; i++) expect((await download(modelName)).status).toBe(200);
    expect(cache.size).toBe(1);
    const jobId = jobRecord('acme').id;
    const other = `ft:electra-imdb-small:acme:other:${jobId}`;
    await store.insertJob({ ...jobRecord('acme', { status: 'succeeded', result }), id: jobId, fineTunedModel: other });
    await store.insertModel({ name: other, tenantId: 'acme', jobId, base: BASE, labels: LABELS, head: encodeHead(head), createdAt: 1_800_000_001 });
    expect((await download(other)).status).toBe(200);
    expect(cache.size).toBe(2);
    await store.deleteModel('acme', other);
    expect((await download(other)).status).toBe(404);
    expect(cache.size).toBe(1);
  });

  it('answers another tenant 404, as for a name nobody serves', async () => {
    const answer = await download(modelName, 'globex');
    expect(answer.status).toBe(404);
    expect((await errorOf(answer)).code).toBe('model_not_found');
    const unknown = await download('ft:electra-imdb-small:acme:spam-filter:ftjob-000000000000000000000000');
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe('model_not_found');
    expect((await download('sentiment')).status).toBe(404);
  });

  it("answers 409 with the job's status for a model whose job has not succeeded, and 404 to another tenant", async () => {
    const name = `ft:electra-imdb-small:acme:reviews:${running.id}`;
    const answer = await download(name);
    expect(answer.status).toBe(409);
    const error = await errorOf(answer);
    expect(error.code).toBe('model_not_ready');
    expect(error.message).toContain('running');
    expect((await download(name, 'globex')).status).toBe(404);
  });

  it('is in the OpenAPI document with its zip, 404 and 409 answers', async () => {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, { get?: { responses: Record<string, { content?: object }> } }> };
    const responses = doc.paths['/v1/models/{id}/export']?.get?.responses ?? {};
    expect(Object.keys(responses)).toEqual(expect.arrayContaining(['200', '404', '409']));
    expect(Object.keys(responses['200']!.content!)).toEqual(['application/zip']);
  });

  it('asks for a key like every /v1 route', async () => {
    const answer = await fetch(`${url}/v1/models/${encodeURIComponent(modelName)}/export`);
    expect(answer.status).toBe(401);
  });
});
