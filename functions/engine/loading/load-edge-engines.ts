/**
 * Loads every edge model of the registry into a warmed engine of its task (edge-tasks.ts): files checked against
 * their sha256, then the task's loader. The app's classify routes take the text-classification map.
 *
 * With a load order (the Node server), the models `first` names load whole before this returns; the others are
 * checked and parsed as well, but their sessions and warm-ups are left to `later` (deferred-sessions.ts), so a
 * first request for the default model does not wait for models it does not use. A file that does not match its
 * sha256 still stops the start, whichever the model.
 */
import { ModelFolderError } from '../model-config.js';
import { modelRef, type ModelEntry, type Registry } from '../../registry/registry.js';
import { verifyModelFiles, type FileChecks, type FileReader } from '../../registry/verify-files.js';
import type { DeferredSessions } from './deferred-sessions.js';
import { EDGE_TASKS, isEdgeTask, type EdgeEngines, type EdgeLoadOptions, type EdgeTask } from './edge-tasks.js';

export interface EdgeLoadOrder {
  /** Whether the model is made whole before the engines are returned (the Node server: the registry's default). */
  first(model: ModelEntry): boolean;
  /** Makes the other models' sessions. */
  later: DeferredSessions;
}

export interface EdgeLoadExtras {
  order?: EdgeLoadOrder;
  /** A model's files with what vouches for those hashed before (verify-files.ts), instead of readerFor's. */
  checkedFiles?: (model: ModelEntry) => CheckedFiles;
}

export interface CheckedFiles {
  read: FileReader;
  checks: FileChecks;
}

export async function loadEdgeEngines(registry: Registry, options: EdgeLoadOptions, { order, checkedFiles }: EdgeLoadExtras = {}): Promise<EdgeEngines> {
  const edge = registry.models.filter((m) => m.runtime === 'edge-wasm');
  for (const model of edge) {
    if (!isEdgeTask(model.task)) {
      throw new ModelFolderError(`model ${modelRef(model)}: ${model.task} does not run on the edge (edge tasks: ${Object.keys(EDGE_TASKS).join(', ')})`);
    }
  }
  // The models loaded whole go first (a stable sort keeps the registry's order otherwise); the maps keep the registry's.
  const ordered = order ? [...edge].sort((a, b) => Number(order.first(b)) - Number(order.first(a))) : edge;
  const loaded = new Map<ModelEntry, unknown>();
  for (const model of ordered) {
    const ref = modelRef(model);
    const files = checkedFiles?.(model);
    const verified = await verifyModelFiles(model, files?.read ?? options.readerFor(model), files?.checks);
    const deferred = order && !order.first(model);
    const loadOptions: EdgeLoadOptions = deferred
      ? { ...options, createSession: order.later.factory(ref, options.createSession), warmUp: async (run) => order.later.afterLoad(ref, run) }
      : options;
    loaded.set(model, await EDGE_TASKS[model.task as EdgeTask].load(model, async (path) => verified.get(path) ?? null, loadOptions));
  }
  const engines = Object.fromEntries(Object.keys(EDGE_TASKS).map((task) => [task, new Map()])) as EdgeEngines;
  for (const model of edge) (engines[model.task as EdgeTask] as Map<string, unknown>).set(modelRef(model), loaded.get(model));
  return engines;
}
