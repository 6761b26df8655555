/**
 * A training thread (thread-trainer.ts starts it): runs EmbeddingTrainer over the base encoders it loads itself,
 * one job at a time, posting progress and then the encoded head and result. An abort message aborts the job's
 * signal, which the trainer checks between chunks of texts and between steps.
 */
import { parentPort } from 'node:worker_threads';
import type { EmbeddingEngine } from '../engine/features/embedding-engine.js';
import type { TextEmbedder } from '../engine/tasks/text-embedder.js';
import { modelRef } from '../registry/registry.js';
import { encodeHead } from '../tuning/trainer/classifier-head.js';
import { EmbeddingTrainer } from '../tuning/trainer/train-classifier.js';
import { loadEncoder, type FromThread, type ToThread } from './thread-trainer.js';

const port = parentPort;
if (!port) throw new Error('training-thread.ts runs as a worker thread of ThreadTrainer');

/** Each base encoder once per thread: the next job on this thread finds it warm. */
const encoders = new Map<string, Promise<EmbeddingEngine>>();
const running = new Map<number, AbortController>();

const post = (message: FromThread) => port.postMessage(message);

/**
 * The encoder with one event-loop turn before each chunk of texts: a session run may resolve in microtasks alone,
 * and an abort message is only read in a turn, so without it a job would not see its abort until it had finished.
 */
const lettingMessagesIn = (engine: EmbeddingEngine): TextEmbedder => ({
  get dimensions() {
    return engine.dimensions;
  },
  countTokens: (texts) => engine.countTokens(texts),
  embed: async (texts, options) => {
    await new Promise((resolve) => setImmediate(resolve));
    return engine.embed(texts, options);
  },
});

async function train(message: Extract<ToThread, { type: 'train' }>): Promise<void> {
  const controller = new AbortController();
  running.set(message.id, controller);
  try {
    const ref = modelRef(message.model);
    let encoder = encoders.get(ref);
    if (!encoder) {
      encoder = loadEncoder(message.model, message.modelsDir);
      encoders.set(ref, encoder);
      // A load that failed is tried again by the next job, not remembered.
      encoder.catch(() => encoders.delete(ref));
    }
    const loaded = encoder.then(lettingMessagesIn);
    const trainer = new EmbeddingTrainer({ embedderFor: () => loaded, ...(message.chunkSize ? { chunkSize: message.chunkSize } : {}), clock: () => performance.now() });
    const { head, result } = await trainer.train(message.input, {
      signal: controller.signal,
      onProgress: (progress) => post({ type: 'progress', id: message.id, progress }),
    });
    const bytes = encodeHead(head);
    port!.postMessage({ type: 'done', id: message.id, head: bytes, result } satisfies FromThread, [bytes.buffer as ArrayBuffer]);
  } catch (error) {
    post({ type: 'failed', id: message.id, message: error instanceof Error ? error.message : String(error), aborted: controller.signal.aborted });
  } finally {
    running.delete(message.id);
  }
}

port.on('message', (message: ToThread) => {
  if (message.type === 'train') void train(message);
  else running.get(message.id)?.abort(new Error(message.reason));
});
