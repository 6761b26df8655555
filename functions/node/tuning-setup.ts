/**
 * Fine-tuning for the Node server: the tuning store on the same SQLite file as billing (its migrations include
 * 0003_tuning.sql), file bytes in a folder beside it, the job service with the trainer in a worker thread, the
 * tuning plugin (Files and jobs routes) and the tenant models the core routes serve over the shared encoders.
 * Without billing the store is still that file (default .data/edge-maas.sqlite), and training is not metered.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TenantModels } from '../engine/tasks/tenant-models.js';
import type { TextEmbedder } from '../engine/tasks/text-embedder.js';
import type { AppPlugin } from '../http/app-plugin.js';
import { modelRef, type Registry } from '../registry/registry.js';
import { DEFAULT_MAX_ACTIVE_JOBS_PER_TENANT, FineTuningService } from '../tuning/jobs/fine-tuning-service.js';
import { ExportCache } from '../tuning/export/export-cache.js';
import type { ExportRouteDeps } from '../tuning/routes/export.js';
import type { FileLimits } from '../tuning/routes/files.js';
import { StoredTenantModels } from '../tuning/serving/tenant-models.js';
import { SqlTuningStore } from '../tuning/sql-tuning-store.js';
import type { Trainer } from '../tuning/trainer/trainer.js';
import type { TrainingMeter } from '../tuning/training-meter.js';
import { tuningPlugin } from '../tuning/tuning-plugin.js';
import { migrationsDir } from './billing-setup.js';
import { choiceFromEnv, intFromEnv } from './entry.js';
import { FolderBlobStore } from './folder-blob-store.js';
import { MemoryBlobStore } from '../tuning/memory-blob-store.js';
import { openSqlite } from './sqlite-database.js';
import { ThreadTrainer } from './thread-trainer.js';

/** What a deployment may set (FINE_TUNING_* in the environment). */
export interface TuningSettings {
  /** Jobs trained at once (default 1: each takes a core while it reads its texts). */
  concurrency?: number;
  /** Jobs one tenant may have validating, queued or running at once (default 5). */
  maxActiveJobsPerTenant?: number;
  limits?: Partial<FileLimits>;
  /** Bytes of decoded heads kept in memory (default 64 MiB). */
  headCacheBytes?: number;
}

export interface OpenTuningOptions extends TuningSettings {
  registry: Registry;
  /** The feature-extraction engines the server loaded, by id@version: tenant models are served over them. */
  embedders: Map<string, TextEmbedder>;
  /** The SQLite file (billing's); file bytes go to a folder beside it. */
  dbPath: string;
  /** How training is billed; without billing, nothing records it. */
  meter?: TrainingMeter;
  /** The files of a registry model's folder, sha256-checked: what an export copies of the base encoder. */
  readerFor: ExportRouteDeps['readerFor'];
  /** Default: the worker-thread trainer (node/thread-trainer.ts). */
  trainer?: Trainer & { close?(): Promise<void> };
}

export interface NodeTuning {
  plugin: AppPlugin;
  tenantModels: TenantModels;
  service: FineTuningService;
  /** Ends every open job event stream (event: shutdown), now and for streams that start later: a drain's first step. */
  endStreams?(): void;
  /** Stops taking jobs (running ones go back to the queue for the next start), then closes the store. */
  close(): Promise<void>;
}

const UNMETERED: TrainingMeter = { reserve: async () => {}, settle: async () => {} };

/** FINE_TUNING=on|off, FINE_TUNING_CONCURRENCY, FINE_TUNING_MAX_ACTIVE_JOBS, FINE_TUNING_MAX_UPLOAD_BYTES, FINE_TUNING_STORAGE_QUOTA_BYTES. */
export function tuningSettingsFromEnv(): TuningSettings | false {
  if (choiceFromEnv('FINE_TUNING', ['on', 'off'], 'on') === 'off') return false;
  const limits: Partial<FileLimits> = {};
  const maxUpload = intFromEnv('FINE_TUNING_MAX_UPLOAD_BYTES', 0, 1);
  const quota = intFromEnv('FINE_TUNING_STORAGE_QUOTA_BYTES', 0, 1);
  if (maxUpload) limits.maxUploadBytes = maxUpload;
  if (quota) limits.storageQuotaBytes = quota;
  const maxActiveJobsPerTenant = intFromEnv('FINE_TUNING_MAX_ACTIVE_JOBS', DEFAULT_MAX_ACTIVE_JOBS_PER_TENANT, 1);
  return { concurrency: intFromEnv('FINE_TUNING_CONCURRENCY', 1, 1), maxActiveJobsPerTenant, limits };
}

export async function openTuning(options: OpenTuningOptions): Promise<NodeTuning> {
  const { registry, embedders } = options;
  const inMemory = options.dbPath === ':memory:';
  if (!inMemory) await mkdir(dirname(options.dbPath), { recursive: true });
  const db = await openSqlite(options.dbPath, migrationsDir);
  const trainer = options.trainer ?? new ThreadTrainer({ registry });
  try {
    // An in-memory database keeps its file bytes in memory too, rather than in a tuning-files/ folder of the cwd.
    const blobs = inMemory ? new MemoryBlobStore() : new FolderBlobStore(join(dirname(options.dbPath), 'tuning-files'));
    const store = new SqlTuningStore(db, blobs);
    const embedderFor = (base: string): TextEmbedder => {
      const model = registry.resolve(base);
      const embedder = model && embedders.get(modelRef(model));
      if (!embedder) throw new Error(`the base model ${base} is not loaded here`);
      return embedder;
    };
    const service = new FineTuningService({ store, trainer, registry, embedderFor, meter: options.meter ?? UNMETERED, queue: { concurrency: options.concurrency ?? 1 }, maxActiveJobsPerTenant: options.maxActiveJobsPerTenant });
    await service.start();
    const streams = new AbortController();
    const exportCache = new ExportCache();
    // DELETE /v1/models/{id} deletes through the tenant models: the model's cached export goes with it.
    const deletingStore = Object.assign(Object.create(store) as SqlTuningStore, {
      deleteModel: async (tenantId: string, name: string) => {
        const deleted = await store.deleteModel(tenantId, name);
        exportCache.evict(tenantId, name);
        return deleted;
      },
    });
    const tenantModels = new StoredTenantModels({ store: deletingStore, registry, embedders, cacheBytes: options.headCacheBytes });
    return {
      plugin: tuningPlugin({ service, store, limits: options.limits, exports: { store, registry, readerFor: options.readerFor, cache: exportCache }, shutdown: streams.signal }),
      tenantModels,
      service,
      endStreams: () => streams.abort(),
      close: async () => {
        streams.abort();
        await service.close();
        await trainer.close?.();
        db.close();
      },
    };
  } catch (error) {
    await trainer.close?.();
    db.close();
    throw error;
  }
}
