/**
 * The registry's default classifier (sst2-bert@3) loaded in this process the way the server loads it (files checked
 * against their sha256, the text-classification task's loader, a micro-batched engine), optionally with its ONNX
 * bytes edited first (the sanity check's randomised layers).
 */
import { join } from 'node:path';
import type { ClassificationEngine } from '../../functions/engine/classification/classification-engine.js';
import { EDGE_TASKS } from '../../functions/engine/loading/edge-tasks.js';
import { folderReader, nodeSessionFactory, type OrtBackend } from '../../functions/node/load-classifier.js';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import { repoRoot } from '../../functions/node/shared-paths.js';
import { modelRef, type ModelEntry } from '../../functions/registry/registry.js';
import { verifyModelFiles } from '../../functions/registry/verify-files.js';

export interface LoadedModel {
  model: ModelEntry;
  name: string;
  engine: ClassificationEngine;
}

async function defaultModelFiles(): Promise<{ model: ModelEntry; files: Map<string, Uint8Array> }> {
  const model = (await readLocalRegistry()).resolve()!;
  return { model, files: await verifyModelFiles(model, folderReader(join(repoRoot, 'models', model.folder!))) };
}

/** The default model's ONNX file as the registry pins it. */
export async function readDefaultOnnx(): Promise<Uint8Array> {
  const { model, files } = await defaultModelFiles();
  return files.get(model.onnx!)!;
}

export async function loadDefaultModel(backend: OrtBackend, editOnnx?: (bytes: Uint8Array) => Uint8Array): Promise<LoadedModel> {
  const { model, files } = await defaultModelFiles();
  const read = async (path: string) => {
    const bytes = files.get(path) ?? null;
    return bytes && editOnnx && path === model.onnx ? editOnnx(bytes) : bytes;
  };
  const engine = await EDGE_TASKS['text-classification'].load(model, read, {
    readerFor: () => read,
    createSession: nodeSessionFactory(backend),
    // No queue deadline: the benchmark queues thousands of variants at once and measures what they score, not waits.
    engine: () => ({ defer: setImmediate, maxQueueMs: Number.POSITIVE_INFINITY }),
  });
  return { model, name: modelRef(model), engine };
}
