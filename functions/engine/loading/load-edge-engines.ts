/**
 * Loads every edge model of the registry into a warmed engine of its task (edge-tasks.ts): files checked against
 * their sha256, then the task's loader. The app's classify routes take the text-classification map.
 */
import { ModelFolderError } from '../model-config.js';
import { modelRef, type Registry } from '../../registry/registry.js';
import { verifyModelFiles } from '../../registry/verify-files.js';
import { EDGE_TASKS, isEdgeTask, type EdgeEngines, type EdgeLoadOptions } from './edge-tasks.js';

export async function loadEdgeEngines(registry: Registry, options: EdgeLoadOptions): Promise<EdgeEngines> {
  const engines = Object.fromEntries(Object.keys(EDGE_TASKS).map((task) => [task, new Map()])) as EdgeEngines;
  for (const model of registry.models.filter((m) => m.runtime === 'edge-wasm')) {
    if (!isEdgeTask(model.task)) {
      throw new ModelFolderError(`model ${modelRef(model)}: ${model.task} does not run on the edge (edge tasks: ${Object.keys(EDGE_TASKS).join(', ')})`);
    }
    const verified = await verifyModelFiles(model, options.readerFor(model));
    const engine = await EDGE_TASKS[model.task].load(model, async (path) => verified.get(path) ?? null, options);
    (engines[model.task] as Map<string, unknown>).set(modelRef(model), engine);
  }
  return engines;
}
