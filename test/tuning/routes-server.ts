// A real HTTP server on 127.0.0.1 for the tuning routes' tests: the app with billing in keys mode (two tenants,
// one key each) and the tuning plugin over a real SQLite file and blob folder, a real job service and trainer over
// the real base encoder (loaded on first use, so file-only tests never pay for it).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { createApp } from '../../functions/app/create-app.js';
import { billingPlugin } from '../../functions/billing/billing-plugin.js';
import { createKey, createTenant } from '../../functions/billing/key-admin.js';
import type { TextEmbedder } from '../../functions/engine/tasks/text-embedder.js';
import { EDGE_TASKS } from '../../functions/engine/loading/edge-tasks.js';
import { openBilling, migrationsDir, type NodeBilling } from '../../functions/node/billing-setup.js';
import { FolderBlobStore } from '../../functions/node/folder-blob-store.js';
import { folderReader, nodeSessionFactory } from '../../functions/node/load-classifier.js';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import type { Registry } from '../../functions/registry/registry.js';
import { FineTuningService } from '../../functions/tuning/jobs/fine-tuning-service.js';
import { SqlTuningStore } from '../../functions/tuning/sql-tuning-store.js';
import { EmbeddingTrainer } from '../../functions/tuning/trainer/train-classifier.js';
import type { TrainingCharge, TrainingMeter } from '../../functions/tuning/training-meter.js';
import { tuningPlugin, type TuningPluginOptions } from '../../functions/tuning/tuning-plugin.js';
import { repoRoot, sst2Dir } from '../paths.js';

export const TENANTS = ['acme', 'globex'] as const;
export type Tenant = (typeof TENANTS)[number];

/** What the job service billed, as open mode's meter does: it only records (billing's own meter is H6b's). */
export class RecordingMeter implements TrainingMeter {
  readonly reserved: { charge: TrainingCharge; costMicroUsd: number }[] = [];
  readonly settled: { charge: TrainingCharge; trainedTokens: number; status: number }[] = [];
  async reserve(charge: TrainingCharge, costMicroUsd: number): Promise<void> {
    this.reserved.push({ charge, costMicroUsd });
  }
  async settle(charge: TrainingCharge, usage: { trainedTokens: number; status: number }): Promise<void> {
    this.settled.push({ charge, trainedTokens: usage.trainedTokens, status: usage.status });
  }
}

/** The registry's base encoder, loaded once for every server of the test file. */
const encoders = new Map<string, Promise<TextEmbedder>>();
function encoder(registry: Registry, base: string): Promise<TextEmbedder> {
  let loaded = encoders.get(base);
  if (!loaded) {
    const model = registry.resolve(base);
    if (!model?.folder) throw new Error(`no model folder for ${base}`);
    const files = folderReader(resolve(repoRoot, 'models', model.folder));
    loaded = EDGE_TASKS['feature-extraction'].load(model, files, { readerFor: () => files, createSession: nodeSessionFactory('wasm') });
    encoders.set(base, loaded);
  }
  return loaded;
}

export interface TuningServer {
  url: string;
  keys: Record<Tenant, string>;
  store: SqlTuningStore;
  service: FineTuningService;
  meter: RecordingMeter;
  billing: NodeBilling;
  /** The usage records billing wrote, oldest first. */
  usage(): Promise<{ route: string; tenant_id: string | null; model: string | null; status: number; cost_micro_usd: number }[]>;
  close(): Promise<void>;
}

export interface TuningServerOptions extends Pick<TuningPluginOptions, 'limits' | 'events'> {
  /** What the routes get instead of the service itself: the service seen through a wrapper (to watch its calls). */
  routesSee?: (service: FineTuningService) => TuningPluginOptions['service'];
}

export async function startTuningServer({ routesSee = (s) => s, ...options }: TuningServerOptions = {}): Promise<TuningServer> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-maas-tuning-routes-'));
  const dbPath = join(dir, 'db.sqlite');
  const billing = await openBilling({ mode: 'keys', dbPath });
  const keys = {} as Record<Tenant, string>;
  for (const tenant of TENANTS) {
    await createTenant(billing.billing.store, { id: tenant }, Date.now());
    keys[tenant] = (await createKey(billing.billing.store, { tenant }, Date.now())).key;
  }
  const db = await openSqlite(dbPath, migrationsDir);
  const store = new SqlTuningStore(db, new FolderBlobStore(join(dir, 'blobs')));
  const registry = await readLocalRegistry();
  const embedderFor = (base: string) => encoder(registry, base);
  const meter = new RecordingMeter();
  const service = new FineTuningService({ store, trainer: new EmbeddingTrainer({ embedderFor }), registry, embedderFor, meter, progressIntervalMs: 0 });
  await service.start();
  const app = createApp({
    registry, engines: new Map(), isReady: () => true,
    plugins: [billingPlugin({ billing: billing.billing }), tuningPlugin({ service: routesSee(service), store, ...options })],
  });
  const server = createServer(getRequestListener(app.fetch));
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`, keys, store, service, meter, billing,
    async usage() {
      await billing.settle();
      return db.all('SELECT route, tenant_id, model, status, cost_micro_usd FROM usage ORDER BY created_at, id');
    },
    async close() {
      server.closeAllConnections();
      await new Promise((closed) => server.close(closed));
      await service.close();
      await billing.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** SST-2 training rows as a training file's lines ({"text", "label": "negative" | "positive"}). */
export async function sst2Lines(count: number, skip = 0): Promise<string[]> {
  const rows = (await readFile(join(sst2Dir, 'train.tsv'), 'utf8')).split('\n').slice(1 + skip, 1 + skip + count);
  return rows.map((line) => {
    const [text, label] = line.split('\t');
    return JSON.stringify({ text: text!.trim(), label: label === '1' ? 'positive' : 'negative' });
  });
}

export const jsonl = (lines: string[]): Uint8Array => new TextEncoder().encode(`${lines.join('\n')}\n`);
