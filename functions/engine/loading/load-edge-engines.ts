/**
 * Loads every edge model of the registry into a warmed ClassificationEngine: files checked against their sha256,
 * session created, one classification run so the first user request does not pay for lazy initialisation.
 */
import { ClassificationEngine } from '../classification/classification-engine.js';
import type { MicroBatcherOptions } from '../classification/micro-batcher.js';
import { modelRef, type ModelEntry, type Registry } from '../../registry/registry.js';
import { verifyModelFiles } from '../../registry/verify-files.js';
import { classifierFromFiles, type FolderReader, type SessionFactory } from './classifier-from-files.js';

export interface EdgeLoadOptions {
  /** The files of one registry entry's folder. */
  readerFor: (model: ModelEntry) => FolderReader;
  createSession: SessionFactory;
  /** Defaults: batches up to the model's max_batch, no coalescing window beyond one event-loop turn, 4,096 queued texts. */
  engine?: (model: ModelEntry) => Partial<MicroBatcherOptions>;
  /** false: each request's texts run as their own batch (Workers); default true. */
  batchAcrossRequests?: boolean;
}

export async function loadEdgeEngines(registry: Registry, options: EdgeLoadOptions): Promise<Map<string, ClassificationEngine>> {
  const engines = new Map<string, ClassificationEngine>();
  for (const model of registry.models.filter((m) => m.runtime === 'edge-wasm')) {
    const verified = await verifyModelFiles(model, options.readerFor(model));
    const classifier = await classifierFromFiles(async (path) => verified.get(path) ?? null, model.onnx!, `model ${modelRef(model)}`, options.createSession);
    const batching = { maxBatchSize: model.maxBatch, maxWaitMs: 0, maxQueue: 4 * 1024, ...options.engine?.(model) };
    const engine = new ClassificationEngine(classifier, batching, options.batchAcrossRequests ?? true);
    await engine.classify(['warm up the session']);
    engines.set(modelRef(model), engine);
  }
  return engines;
}
