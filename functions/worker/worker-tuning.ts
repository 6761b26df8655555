/**
 * Fine-tuning in the Worker's app: the Files and jobs routes (the same tuning plugin as Node's) over D1 and R2,
 * with job creation and cancellation handed to the FineTuningQueue object, and the tenant models that the core
 * routes serve over the bundled encoder, in every isolate.
 */
import type { TenantModels } from '../engine/tasks/tenant-models.js';
import type { TextEmbedder } from '../engine/tasks/text-embedder.js';
import type { AppPlugin } from '../http/app-plugin.js';
import type { Registry } from '../registry/registry.js';
import { StoredTenantModels } from '../tuning/serving/tenant-models.js';
import { SqlTuningStore } from '../tuning/sql-tuning-store.js';
import type { TuningStore } from '../tuning/tuning-store.js';
import { tuningPlugin } from '../tuning/tuning-plugin.js';
import { d1Database } from './d1-database.js';
import { DurableFineTuningJobs } from './durable-fine-tuning-jobs.js';
import { R2BlobStore } from './r2-blob-store.js';
import type { Env } from './worker-env.js';

/** The store of fine-tuning's records (D1) and files (R2); null without both bindings. */
export function tuningStoreOf(env: Env): TuningStore | null {
  return env.DB && env.TUNING_BUCKET ? new SqlTuningStore(d1Database(env.DB), new R2BlobStore(env.TUNING_BUCKET)) : null;
}

export interface WorkerTuning {
  plugin: AppPlugin;
  tenantModels: TenantModels;
}

/** Null (no fine-tuning routes, no tenant models) unless DB, TUNING_BUCKET and FINE_TUNING are all bound. */
export function workerTuning(env: Env, registry: Registry, embedders: Map<string, TextEmbedder>): WorkerTuning | null {
  const store = tuningStoreOf(env);
  if (!store || !env.FINE_TUNING) return null;
  return {
    plugin: tuningPlugin({ service: new DurableFineTuningJobs(env.FINE_TUNING, store), store }),
    tenantModels: new StoredTenantModels({ store, registry, embedders }),
  };
}
