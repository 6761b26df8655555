/**
 * The Node server's trainer: EmbeddingTrainer in a worker thread that loads the encoder itself. It must give the
 * inline trainer's head bit for bit, keep its thread warm for the next job, stop on abort, and turn the thread's
 * failures into one-line rejections; and it must start under `node --import tsx` as well as under vitest.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import { loadEncoder, ThreadTrainer } from '../../functions/node/thread-trainer.js';
import { Registry, type ModelEntry } from '../../functions/registry/registry.js';
import { encodeHead } from '../../functions/tuning/trainer/classifier-head.js';
import { EmbeddingTrainer } from '../../functions/tuning/trainer/train-classifier.js';
import type { TrainInput, TrainProgress } from '../../functions/tuning/trainer/trainer.js';
import { repoRoot } from '../paths.js';
import { sst2Rows } from './job-helpers.js';

let registry: Registry;
let input: TrainInput;
const trainers: ThreadTrainer[] = [];

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** How busy the main thread's event loop was (0..1) while `work` ran: the share of its time serving could not have. */
async function mainThreadBusyDuring<T>(work: () => Promise<T>): Promise<{ value: T; utilization: number }> {
  const before = performance.eventLoopUtilization();
  const value = await work();
  return { value, utilization: performance.eventLoopUtilization(before).utilization };
}

function threadTrainer(options: Partial<ConstructorParameters<typeof ThreadTrainer>[0]> = {}) {
  const started: number[] = [];
  const trainer = new ThreadTrainer({ registry, onThreadStart: (id) => started.push(id), ...options });
  trainers.push(trainer);
  return { trainer, started };
}

beforeAll(async () => {
  registry = await readLocalRegistry();
  const rows = await sst2Rows(60, 2_000);
  input = { base: 'electra-imdb-small@1', rows, validation: null, labels: ['negative', 'positive'], hyperparameters: { nEpochs: 2, batchSize: 16, learningRateMultiplier: 1 }, seed: 99 };
});

afterAll(async () => {
  for (const trainer of trainers) await trainer.close();
});

describe('ThreadTrainer', () => {
  it('gives the inline trainer head bit for bit, reports progress, and reuses its warm thread', async () => {
    const encoder = await loadEncoder(registry.resolve(input.base)!);
    const inlineBusy = await mainThreadBusyDuring(() => new EmbeddingTrainer({ embedderFor: async () => encoder }).train(input));
    const inline = inlineBusy.value;

    const { trainer, started } = threadTrainer();
    const progress: TrainProgress[] = [];
    const times: number[] = [];
    let threaded;
    let threadBusy = 0;
    for (let run = 0; run < 2; run++) {
      const t0 = performance.now();
      const busy = await mainThreadBusyDuring(() => trainer.train(input, { onProgress: (p) => progress.push(p) }));
      threaded = busy.value;
      if (run === 1) threadBusy = busy.utilization;
      times.push(performance.now() - t0);
    }
    console.log(`main thread busy while a job trained: inline ${(100 * inlineBusy.utilization).toFixed(0)} %, in the (warm) thread ${(100 * threadBusy).toFixed(1)} %`);
    // Relative, not absolute: on a loaded machine the main thread's own progress handling takes a larger share of
    // a wall clock that stretches (0.12 seen at load 10); trained inline it is busy nearly the whole job.
    expect(inlineBusy.utilization).toBeGreaterThan(0.5);
    expect(threadBusy).toBeLessThan(inlineBusy.utilization / 3);
    expect(sha(encodeHead(threaded!.head))).toBe(sha(encodeHead(inline.head)));
    const { featureMs, trainingMs, ...result } = threaded!.result;
    const { featureMs: _f, trainingMs: _t, ...inlineResult } = inline.result;
    expect(result).toEqual(inlineResult);
    expect(started).toHaveLength(1);
    expect(new Set(progress.map((p) => p.phase))).toEqual(new Set(['features', 'training']));
    expect(progress.filter((p) => p.holdoutAccuracy !== undefined)).toHaveLength(4);
    console.log(`thread trainer, 60 rows x 2 epochs: first job ${times[0]!.toFixed(0)} ms (thread start + encoder load), second ${times[1]!.toFixed(0)} ms (warm); features ${featureMs.toFixed(0)} ms, head ${trainingMs.toFixed(0)} ms`);
  });

  it('an abort rejects with the signal reason and leaves the thread usable', async () => {
    // Chunks of 8 texts: the abort lands while the encoder still has chunks to read.
    const { trainer, started } = threadTrainer({ chunkSize: 8 });
    const controller = new AbortController();
    const reason = new Error('cancelled by the test');
    const t0 = performance.now();
    const run = trainer.train(input, { signal: controller.signal, onProgress: (p) => p.phase === 'features' && controller.abort(reason) });
    await expect(run).rejects.toBe(reason);
    expect(performance.now() - t0).toBeLessThan(30_000);
    const again = await trainer.train({ ...input, rows: input.rows.slice(0, 20), hyperparameters: { ...input.hyperparameters, nEpochs: 1 } });
    expect(again.head.labels).toEqual(['negative', 'positive']);
    expect(started).toHaveLength(1);
  });

  it("a thread that does not stop within the grace period is terminated, and the thread's own errors are one-line rejections", async () => {
    const encoder = registry.resolve(input.base)!;
    const moved: ModelEntry = { ...encoder, folder: 'no-such-folder' };
    const broken = new Registry([moved, ...registry.models.filter((m) => m !== encoder)], registry.defaultName);
    const { trainer } = threadTrainer({ registry: broken });
    const error = await trainer.train(input).then(() => null, (e: Error) => e);
    expect(error?.message).toMatch(/config\.json is missing/);
    expect(error?.message).not.toContain('\n');

    // keepIdle 0: a thread per job, ended when its job ends.
    const { trainer: slow, started } = threadTrainer({ abortGraceMs: 0, keepIdle: 0 });
    const controller = new AbortController();
    const run = slow.train(input, { signal: controller.signal });
    controller.abort(new Error('now'));
    await expect(run).rejects.toThrow('now');
    expect(slow.threads).toBe(0);
    await slow.train({ ...input, rows: input.rows.slice(0, 20), hyperparameters: { ...input.hyperparameters, nEpochs: 1 } });
    expect([started.length, slow.threads]).toEqual([2, 0]);
  });

  it('runs under node --import tsx, as the server does, to the same head', async () => {
    const child = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/tuning/job-thread-child.ts'), '20', '2000', '1', '99'], { cwd: repoRoot });
    const encoder = await loadEncoder(registry.resolve(input.base)!);
    const inline = await new EmbeddingTrainer({ embedderFor: async () => encoder }).train({ ...input, rows: input.rows.slice(0, 20), hyperparameters: { ...input.hyperparameters, nEpochs: 1 } });
    expect(child.stdout.trim()).toBe(sha(encodeHead(inline.head)));
  });
});
