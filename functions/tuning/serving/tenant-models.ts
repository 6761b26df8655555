/**
 * The tenant models of one deployment (engine/tasks/tenant-models.ts): what succeeded fine-tuning jobs stored, each
 * served as the shared base encoder plus its own decoded head. Heads are decoded once and kept in an LRU bounded by
 * bytes, so one encoder serves every tenant and a tenant model costs its head's kilobytes. Every lookup is scoped by
 * tenant: another tenant's model reads as absent, so the routes answer it with the 404 of an unknown name.
 */
import type { TenantModel, TenantModels } from '../../engine/tasks/tenant-models.js';
import type { TextEmbedder } from '../../engine/tasks/text-embedder.js';
import { ApiError } from '../../http/errors.js';
import type { ModelEntry, Registry } from '../../registry/registry.js';
import { decodeHead } from '../trainer/classifier-head.js';
import type { TuningStore } from '../tuning-store.js';
import { FINISHED, OPEN_TENANT, type TenantModelRecord } from '../tuning-types.js';
import { HeadClassifier } from './head-classifier.js';
import { LruByBytes } from './lru-by-bytes.js';
import { jobIdOfModelName, TENANT_MODEL_PREFIX } from './model-name.js';

export interface StoredTenantModelsOptions {
  store: TuningStore;
  registry: Registry;
  /** The base encoders by id@version: loadEdgeEngines(...)['feature-extraction']. */
  embedders: Map<string, TextEmbedder>;
  /** Bytes of decoded heads kept (default 64 MiB). */
  cacheBytes?: number;
  /**
   * How long a cached model is served without asking the store again (default 5 s): how late this instance sees a
   * delete made by another one sharing the store. A delete through this instance evicts at once.
   */
  trustForMs?: number;
  now?: () => number;
}

interface Cached {
  model: TenantModel;
  tenantId: string;
  checkedAt: number;
}

const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
const DEFAULT_TRUST_MS = 5_000;

export class StoredTenantModels implements TenantModels {
  private readonly cache: LruByBytes<Cached>;
  private readonly trustForMs: number;
  private readonly now: () => number;

  constructor(private readonly o: StoredTenantModelsOptions) {
    this.cache = new LruByBytes(o.cacheBytes ?? DEFAULT_CACHE_BYTES);
    this.trustForMs = o.trustForMs ?? DEFAULT_TRUST_MS;
    this.now = o.now ?? (() => Date.now());
  }

  claims(name: string): boolean {
    return name.startsWith(TENANT_MODEL_PREFIX);
  }

  async resolve(name: string, tenantId: string | null): Promise<TenantModel | null> {
    const tenant = tenantId ?? OPEN_TENANT;
    const cached = this.cache.get(name);
    if (cached && cached.tenantId === tenant && this.now() - cached.checkedAt < this.trustForMs) return cached.model;
    const record = await this.o.store.getModel(tenant, name);
    if (!record) {
      if (cached?.tenantId === tenant) this.cache.delete(name);
      await this.refuseIfNotReady(name, tenant);
      return null;
    }
    if (cached && cached.tenantId === tenant) {
      cached.checkedAt = this.now();
      return cached.model;
    }
    const model = this.served(record);
    this.cache.set(name, { model, tenantId: tenant, checkedAt: this.now() }, (model.classifier as HeadClassifier).bytes);
    return model;
  }

  async list(tenantId: string | null): Promise<Omit<TenantModel, 'classifier'>[]> {
    const records = await this.o.store.listModels(tenantId ?? OPEN_TENANT);
    return records.flatMap((record) => {
      const base = this.o.registry.resolve(record.base);
      return base ? [{ entry: entryOf(record, base), ownedBy: record.tenantId, created: record.createdAt }] : [];
    });
  }

  async remove(name: string, tenantId: string | null): Promise<boolean> {
    const removed = await this.o.store.deleteModel(tenantId ?? OPEN_TENANT, name);
    if (removed) this.cache.delete(name);
    return removed;
  }

  /**
   * A name of the caller's job without a model says why: a job still on its way answers 409 with its status (retry
   * later); one that failed or was cancelled answers 404 saying so, since its model will never exist.
   */
  private async refuseIfNotReady(name: string, tenant: string): Promise<void> {
    const jobId = jobIdOfModelName(name);
    const job = jobId ? await this.o.store.getJob(tenant, jobId) : null;
    if (!job || job.status === 'succeeded') return;
    if (job.fineTunedModel !== null && job.fineTunedModel !== name) return;
    if (FINISHED.includes(job.status)) {
      const why = job.error ? ` (${job.error.code}: ${job.error.message})` : '';
      throw new ApiError(404, `model "${name}" does not exist and never will: its fine-tuning job ${job.id} ended ${job.status}${why}`,
        'invalid_request_error', 'model_not_found', 'model');
    }
    throw new ApiError(409, `model "${name}" is not ready: its fine-tuning job ${job.id} is ${job.status}`, 'invalid_request_error', 'model_not_ready', 'model');
  }

  private served(record: TenantModelRecord): TenantModel {
    const base = this.o.registry.resolve(record.base);
    const embedder = this.o.embedders.get(record.base);
    if (!base || !embedder) {
      throw new ApiError(503, `model "${record.name}" is built on ${record.base}, which this deployment does not serve`, 'server_error', 'base_model_unavailable', 'model');
    }
    const head = decodeHead(record.head);
    return { entry: entryOf(record, base), ownedBy: record.tenantId, created: record.createdAt, classifier: new HeadClassifier(head, embedder) };
  }
}

/** A registry-shaped entry: the head's labels, the base's limits and price (a tenant model bills as its base). */
function entryOf(record: TenantModelRecord, base: ModelEntry): ModelEntry {
  return {
    id: record.name,
    // A fine-tuned model is never retrained in place: its one version.
    version: '1',
    task: 'text-classification',
    runtime: 'edge-wasm',
    files: {},
    labels: record.labels,
    maxTokens: base.maxTokens,
    maxBatch: base.maxBatch,
    aliases: [],
    price: base.price,
    upstreams: [],
  };
}
