/**
 * onnxruntime-web (WASM) sessions that run in one worker thread, for the Node server's ORT_BACKEND=wasm.
 *
 * Why: a WASM session.run blocks the thread that calls it. On the main thread it stops the event loop for the
 * whole batch, so a burst waits unread in the sockets: each request is read only between two batches, finds the
 * queue short, and is admitted with a deadline that starts when it was read, not when it arrived (a burst waited
 * two minutes against a 3 s deadline). In a worker thread the loop keeps reading while a batch runs: the queue
 * holds the real backlog, and the micro-batcher's deadline sheds it as it does on native onnxruntime, whose
 * session.run runs off the loop too. One thread for all the process's sessions: they run one at a time anyway
 * (batch-lane.ts), and one WASM instance holds one copy of onnxruntime's code.
 *
 * The thread's code is inline (an eval worker) and requires onnxruntime-web by its resolved path, so that it
 * starts the same from TypeScript under tsx and vitest as from built JavaScript.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { OrtSessionHandle, SessionOptions } from '../engine/loading/classifier-from-files.js';
import type { OrtTensorLike } from '../engine/ort-types.js';

interface WireTensor { type: string; data: ArrayBufferView; dims: readonly number[] }

type Reply = { id: number; error: string } | { id: number; inputNames: string[] } | { id: number; outputs: Record<string, WireTensor> };

const THREAD_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
ort.env.wasm.numThreads = workerData.threads;
const sessions = new Map();
let nextSession = 0;
const whole = (data) => data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
parentPort.on('message', async (message) => {
  try {
    if (message.type === 'create') {
      const session = await ort.InferenceSession.create(message.bytes, { executionProviders: ['wasm'], graphOptimizationLevel: message.graphOptimizationLevel });
      const handle = nextSession++;
      sessions.set(handle, session);
      parentPort.postMessage({ id: message.id, session: handle, inputNames: session.inputNames });
      return;
    }
    const feeds = {};
    for (const [name, t] of Object.entries(message.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    const outputs = await sessions.get(message.session).run(feeds);
    const wire = {};
    const transfer = [];
    for (const [name, t] of Object.entries(outputs)) {
      wire[name] = { type: t.type, data: t.data, dims: t.dims };
      if (ArrayBuffer.isView(t.data) && whole(t.data)) transfer.push(t.data.buffer);
    }
    parentPort.postMessage({ id: message.id, outputs: wire }, transfer);
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
`;

/** The thread and the calls waiting for its replies. */
class WasmThread {
  private readonly worker: Worker;
  private readonly calls = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  private nextCall = 0;
  private stopped: Error | null = null;

  constructor(threads: number) {
    const ortPath = createRequire(import.meta.url).resolve('onnxruntime-web');
    this.worker = new Worker(THREAD_CODE, { eval: true, workerData: { ortPath, threads } });
    // The server's sockets keep the process alive; an idle inference thread must not.
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      const call = this.calls.get(reply.id);
      this.calls.delete(reply.id);
      if (!call) return;
      if ('error' in reply) call.reject(new Error(reply.error));
      else call.resolve(reply);
    });
    const stop = (error: Error) => {
      this.stopped = new Error(`the WASM inference thread stopped: ${error.message}`);
      for (const call of this.calls.values()) call.reject(this.stopped);
      this.calls.clear();
    };
    this.worker.on('error', stop);
    this.worker.on('exit', (code) => stop(new Error(`exit code ${code}`)));
  }

  call(message: Record<string, unknown>): Promise<Reply> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id });
    });
  }
}

let shared: WasmThread | null = null;

/** A SessionFactory whose sessions live in the process's WASM inference thread (started on the first session). */
export function wasmThreadSessionFactory(threads = 1) {
  return async (bytes: Uint8Array, options: SessionOptions = {}): Promise<OrtSessionHandle> => {
    shared ??= new WasmThread(threads);
    const thread = shared;
    const created = await thread.call({ type: 'create', bytes, graphOptimizationLevel: options.optimization ?? 'all' }) as unknown as { session: number; inputNames: string[] };
    const session = {
      inputNames: created.inputNames,
      async run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>> {
        const reply = await thread.call({ type: 'run', session: created.session, feeds });
        return (reply as { outputs: Record<string, WireTensor> }).outputs;
      },
    };
    // Plain objects: they are copied to the thread, where they become onnxruntime-web tensors.
    return { session, createTensor: (type, data, dims) => ({ type, data, dims }) };
  };
}
