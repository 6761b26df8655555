/**
 * The edge tasks (transformers.js' SUPPORTED_TASKS): each registry task that runs in the edge function, with the
 * loader that turns one model's sha256-checked folder into its warmed engine. load-edge-engines.ts loads every
 * edge model through its task's row, so a new task is one new row here and a route that takes its engines.
 */
import { ClassificationEngine } from '../classification/classification-engine.js';
import type { MicroBatcherOptions } from '../classification/micro-batcher.js';
import { EmbeddingEngine } from '../features/embedding-engine.js';
import { extractorFromFiles } from '../features/extractor-from-files.js';
import { modelRef, type ModelEntry, type Task } from '../../registry/registry.js';
import { classifierFromFiles, type FolderReader, type SessionFactory } from './classifier-from-files.js';

export interface EdgeLoadOptions {
  /** The files of one registry entry's folder. */
  readerFor: (model: ModelEntry) => FolderReader;
  createSession: SessionFactory;
  /** Defaults: batches up to the model's max_batch, no coalescing window beyond one event-loop turn, 4,096 queued texts. */
  engine?: (model: ModelEntry) => Partial<MicroBatcherOptions>;
  /** false: each request's texts run as their own batch (Workers); default true. */
  batchAcrossRequests?: boolean;
  /** Padded tokens one session.run may hold, for every model (the Worker: DEFAULT_MAX_RUN_TOKENS); default per engine. */
  maxRunTokens?: number;
  /** How the engine's warm-up run happens; default at once, before load() returns (a deferred session: once it is made). */
  warmUp?: (run: () => Promise<unknown>) => Promise<unknown>;
}

const warmNow = (run: () => Promise<unknown>) => run();

/** One row: how a model of the task becomes an engine that a first request finds warm. */
export interface EdgeTaskLoader<Engine> {
  load(model: ModelEntry, files: FolderReader, options: EdgeLoadOptions): Promise<Engine>;
}

const batchingFor = (model: ModelEntry, options: EdgeLoadOptions): MicroBatcherOptions =>
  ({ maxBatchSize: model.maxBatch, maxWaitMs: 0, maxQueue: 4 * 1024, ...options.engine?.(model) });

const textClassification: EdgeTaskLoader<ClassificationEngine> = {
  async load(model, files, options) {
    const classifier = await classifierFromFiles({ read: files, onnxFile: model.onnx!, where: `model ${modelRef(model)}`, createSession: options.createSession, maxRunTokens: options.maxRunTokens });
    const batching = batchingFor(model, options);
    const engine = new ClassificationEngine(classifier, { batching, maxTokens: model.maxTokens, batchAcrossRequests: options.batchAcrossRequests ?? true });
    // One run, so that the first user request does not pay for the session's lazy initialisation.
    await (options.warmUp ?? warmNow)(() => engine.classify(['warm up the session']));
    return engine;
  },
};

/** Fine-tuning's base encoders: the TextEmbedder that tenant heads are trained on and served over. */
const featureExtraction: EdgeTaskLoader<EmbeddingEngine> = {
  async load(model, files, options) {
    const extractor = await extractorFromFiles({ read: files, onnxFile: model.onnx!, where: `model ${modelRef(model)}`, createSession: options.createSession, maxRunTokens: options.maxRunTokens });
    const engine = new EmbeddingEngine(extractor, { batching: batchingFor(model, options), batchAcrossRequests: options.batchAcrossRequests ?? true });
    // The warm-up also checks the ONNX file's output against config.json's hidden_size, before any request (a deferred one's: once its session is made, in the background).
    await (options.warmUp ?? warmNow)(() => engine.embed(['warm up the session']));
    return engine;
  },
};

/** A task the registry knows gets its row once it runs on the edge. */
export const EDGE_TASKS = {
  'text-classification': textClassification,
  'feature-extraction': featureExtraction,
} satisfies { [T in Task]?: EdgeTaskLoader<unknown> };

export type EdgeTask = keyof typeof EDGE_TASKS;
export type EdgeEngineOf<T extends EdgeTask> = Awaited<ReturnType<(typeof EDGE_TASKS)[T]['load']>>;
/** Per edge task, its engines by model ref (id@version). */
export type EdgeEngines = { [T in EdgeTask]: Map<string, EdgeEngineOf<T>> };

export const isEdgeTask = (task: Task): task is EdgeTask => Object.hasOwn(EDGE_TASKS, task);
