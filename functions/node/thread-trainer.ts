/**
 * The Trainer the Node server runs jobs with: the same EmbeddingTrainer as inline, in a worker thread
 * (training-thread.ts), so the encoder's reading of a training file never stalls the requests the main thread serves.
 * A thread loads each base encoder once and is kept (idle, unref'd) for the next job; a job whose thread does not
 * stop within the grace period after an abort has its thread terminated.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EDGE_TASKS } from '../engine/loading/edge-tasks.js';
import type { EmbeddingEngine } from '../engine/features/embedding-engine.js';
import type { ModelEntry, Registry } from '../registry/registry.js';
import { verifyModelFiles } from '../registry/verify-files.js';
import { decodeHead } from '../tuning/trainer/classifier-head.js';
import type { Trainer, TrainInput, TrainOptions, TrainOutput, TrainProgress } from '../tuning/trainer/trainer.js';
import type { TrainingResult } from '../tuning/tuning-types.js';
import { folderReader, nodeSessionFactory } from './load-classifier.js';

/** What the main thread posts to a training thread. */
export type ToThread =
  | { type: 'train'; id: number; model: ModelEntry; modelsDir: string; chunkSize?: number; input: TrainInput }
  | { type: 'abort'; id: number; reason: string };

/** What a training thread posts back. */
export type FromThread =
  | { type: 'progress'; id: number; progress: TrainProgress }
  | { type: 'done'; id: number; head: Uint8Array; result: TrainingResult }
  | { type: 'failed'; id: number; message: string; aborted: boolean };

export const defaultModelsDir = process.env.MODELS_DIR ?? resolve(fileURLToPath(import.meta.url), '..', '..', '..', 'models');

/** One encoder folder, sha256-checked, as the warmed TextEmbedder the server loads it as (onnxruntime-web). */
export async function loadEncoder(model: ModelEntry, modelsDir: string = defaultModelsDir): Promise<EmbeddingEngine> {
  const read = folderReader(join(modelsDir, model.folder!));
  const verified = await verifyModelFiles(model, read);
  const files = async (path: string) => verified.get(path) ?? null;
  return EDGE_TASKS['feature-extraction'].load(model, files, { readerFor: () => files, createSession: nodeSessionFactory('wasm'), batchAcrossRequests: false });
}

export interface ThreadTrainerOptions {
  /** Resolves a job's base (id@version) to its folder and files. */
  registry: Registry;
  modelsDir?: string;
  /** How long an aborted job's thread may take to stop before it is terminated; default 2,000 ms. */
  abortGraceMs?: number;
  /** Idle threads kept warm (their encoders loaded) for the next job; default 1, 0 for a thread per job. */
  keepIdle?: number;
  /** EmbeddingTrainer's texts per embed call (abort and progress granularity). */
  chunkSize?: number;
  /** Sees every thread start (its id), for tests and logs. */
  onThreadStart?: (threadId: number) => void;
}

/**
 * The thread's entry. Built JavaScript starts training-thread.js itself. Under tsx or vitest (this file is .ts) a
 * small ES module registers tsx's loader in the thread first and then imports training-thread.ts: on Node 20,
 * `execArgv: ['--import', 'tsx']` leaves a worker's entry unloadable ("Unknown file extension .ts"), measured.
 */
function threadEntry(): URL {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return pathToFileURL(join(here, '..', 'training-thread.js'));
  const thread = pathToFileURL(join(here, '..', 'training-thread.ts')).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import { register } from ${JSON.stringify(tsx)};\nregister();\nawait import(${JSON.stringify(thread)});\n`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}

const oneLine = (text: string): string => text.split('\n', 1)[0]!.trim() || 'the training thread failed';

export class ThreadTrainer implements Trainer {
  private readonly idle: Worker[] = [];
  private readonly busy = new Set<Worker>();
  private nextId = 1;

  constructor(private readonly options: ThreadTrainerOptions) {}

  async train(input: TrainInput, options: TrainOptions = {}): Promise<TrainOutput> {
    const { signal, onProgress } = options;
    signal?.throwIfAborted();
    const model = this.options.registry.resolve(input.base);
    if (!model || model.task !== 'feature-extraction') throw new Error(`the base model ${input.base} is not a feature-extraction model here`);
    const worker = this.take();
    const id = this.nextId++;
    return new Promise<TrainOutput>((resolvePromise, reject) => {
      let settled = false;
      let graceTimer: NodeJS.Timeout | undefined;
      const finish = (outcome: () => void, keep: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(graceTimer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        signal?.removeEventListener('abort', onAbort);
        this.release(worker, keep);
        outcome();
      };
      const onMessage = (message: FromThread) => {
        if (message.id !== id) return;
        if (message.type === 'progress') onProgress?.(message.progress);
        else if (message.type === 'done') finish(() => resolvePromise({ head: decodeHead(message.head), result: message.result }), true);
        else finish(() => reject(message.aborted && signal?.aborted ? signal.reason : new Error(message.message)), true);
      };
      const onError = (error: Error) => finish(() => reject(new Error(`the training thread failed: ${oneLine(error.message)}`)), false);
      const onExit = (code: number) => finish(() => reject(new Error(`the training thread exited (code ${code}) before the job finished`)), false);
      const onAbort = () => {
        worker.postMessage({ type: 'abort', id, reason: String((signal?.reason as Error | undefined)?.message ?? 'aborted') } satisfies ToThread);
        graceTimer = setTimeout(() => finish(() => reject(signal!.reason), false), this.options.abortGraceMs ?? 2_000);
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      signal?.addEventListener('abort', onAbort, { once: true });
      const message: ToThread = { type: 'train', id, model, modelsDir: this.options.modelsDir ?? defaultModelsDir, input, ...(this.options.chunkSize ? { chunkSize: this.options.chunkSize } : {}) };
      worker.postMessage(message);
    });
  }

  /** Threads now running a job or kept warm. */
  get threads(): number {
    return this.idle.length + this.busy.size;
  }

  /** Ends the idle threads (a running job's thread ends when its job does). */
  async close(): Promise<void> {
    await Promise.all(this.idle.splice(0).map((worker) => worker.terminate()));
  }

  private take(): Worker {
    const worker = this.idle.pop() ?? this.spawn();
    worker.ref();
    this.busy.add(worker);
    return worker;
  }

  private release(worker: Worker, keep: boolean): void {
    this.busy.delete(worker);
    if (keep && this.idle.length < (this.options.keepIdle ?? 1)) {
      // A warm thread must not keep the process alive on its own.
      worker.unref();
      this.idle.push(worker);
    } else {
      void worker.terminate();
    }
  }

  private spawn(): Worker {
    const worker = new Worker(threadEntry());
    // A thread that dies while idle is dropped, not handed the next job.
    worker.on('exit', () => {
      const index = this.idle.indexOf(worker);
      if (index >= 0) this.idle.splice(index, 1);
    });
    worker.on('error', () => {});
    this.options.onThreadStart?.(worker.threadId);
    return worker;
  }
}
