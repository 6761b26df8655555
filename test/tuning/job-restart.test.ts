/**
 * A job survives its server: a clean shutdown mid-run puts it back in the queue and a new service on the same
 * database file trains it to the head an uninterrupted run makes (seeded); a job a process left `running` (it was
 * killed) is re-queued once, then failed as `interrupted`; none is lost silently.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddingEngine } from '../../functions/engine/features/embedding-engine.js';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import { loadEncoder } from '../../functions/node/thread-trainer.js';
import type { Registry } from '../../functions/registry/registry.js';
import { FineTuningService } from '../../functions/tuning/jobs/fine-tuning-service.js';
import { EmbeddingTrainer } from '../../functions/tuning/trainer/train-classifier.js';
import type { JobRecord, StoredFile } from '../../functions/tuning/tuning-types.js';
import { openTuningStore, putTrainingFile, RecordingMeter, sst2Rows } from './job-helpers.js';

let dir: string;
let registry: Registry;
let encoder: EmbeddingEngine;
const closers: (() => unknown)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'job-restart-'));
  registry = await readLocalRegistry();
  encoder = await loadEncoder(registry.resolve('electra-imdb-small@1')!);
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await rm(dir, { recursive: true, force: true });
});

/** A "process": its own connection to the database file and its own service. */
async function processOn(name: string) {
  const { store, close } = await openTuningStore(dir, name);
  const meter = new RecordingMeter();
  const service = new FineTuningService({ store, trainer: new EmbeddingTrainer({ embedderFor: async () => encoder }), registry, embedderFor: () => encoder, meter });
  let closed = false;
  const stop = async () => {
    if (closed) return;
    closed = true;
    await service.close();
    close();
  };
  closers.push(stop);
  return { store, service, meter, stop };
}

const request = (file: StoredFile) => ({ model: 'electra-imdb-small@1', training_file: file.id, hyperparameters: { n_epochs: 2, batch_size: 16 }, seed: 1234 });
const tenant = { tenantId: 'acme', keyId: 'key_1' };

describe('a fine-tuning job across restarts', () => {
  it('a clean shutdown mid-run re-queues the job, and the next process trains it to the same head as an uninterrupted run', async () => {
    const first = await processOn('shutdown');
    const file = await putTrainingFile(first.store, 'acme', await sst2Rows(150, 500));
    const job = await first.service.createJob(tenant, request(file));
    // Shut down while the encoder reads the texts, as a deploy would.
    await new Promise<void>((resolve) => first.service.subscribe(job.id, (event) => event.data?.phase === 'features' && resolve()));
    await first.stop();

    const second = await processOn('shutdown');
    const back = await second.service.getJob('acme', job.id);
    expect(back).toMatchObject({ status: 'queued', attempts: 0, startedAt: null, estimatedFinish: null });
    const events = await second.service.eventsAfter('acme', job.id, 0);
    expect(events.at(-1)).toMatchObject({ level: 'warn', message: expect.stringContaining('queued again') });
    expect(first.meter.settled).toEqual([]); // the budget hold waits for the run that finishes

    await second.service.start();
    await second.service.idle();
    const done = await second.service.getJob('acme', job.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(second.meter.settled.map((s) => [s.charge.usageId, s.usage.status])).toEqual([[job.usageId, 200]]);

    const reference = await second.service.createJob(tenant, request(file));
    await second.service.idle();
    const referenceJob = await second.service.getJob('acme', reference.id);
    const head = (await second.store.getModel('acme', done.fineTunedModel!))!.head;
    const referenceHead = (await second.store.getModel('acme', referenceJob.fineTunedModel!))!.head;
    expect(Buffer.from(head).equals(Buffer.from(referenceHead))).toBe(true);
    await second.stop();
  });

  it('a job left running by a killed process is re-queued once, then failed as interrupted; a half-created one is re-queued', async () => {
    const { store, service, meter, stop } = await processOn('crash');
    const file = await putTrainingFile(store, 'acme', await sst2Rows(60, 900));
    // What a killed process leaves: the record as it was when the process died.
    const base = await service.createJob(tenant, { ...request(file), hyperparameters: { n_epochs: 1, batch_size: 16 } });
    await service.close();
    const template = await service.getJob('acme', base.id);
    const left = (status: JobRecord['status'], attempts: number, id: string): JobRecord =>
      ({ ...template, id, usageId: `${id}-usage`, status, attempts, startedAt: status === 'running' ? template.createdAt : null, createdAt: template.createdAt + attempts });
    const idOf = (word: string) => `ftjob-${word.padEnd(24, '0')}`;
    const once = left('running', 1, idOf('crashedonce'));
    const twice = left('running', 2, idOf('crashedtwice'));
    const creating = left('validating_files', 0, idOf('halfcreated'));
    for (const job of [once, twice, creating]) await store.insertJob(job);
    await stop();

    const next = await processOn('crash');
    await next.service.start();
    await next.service.idle();
    const read = (id: string) => next.service.getJob('acme', id);
    expect(await read(once.id)).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(await read(creating.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await read(twice.id)).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'interrupted', param: null } });
    expect((await read(twice.id)).fineTunedModel).toBeNull();
    expect((await read(twice.id)).trainedTokens).toBe(0);
    const warned = await next.service.eventsAfter('acme', once.id, 0);
    expect(warned.map((e) => e.message)).toContain('re-queued after the server restarted');
    expect(next.meter.settled.find((s) => s.charge.jobId === twice.id)!.usage).toEqual({ trainedTokens: 0, costMicroUsd: 0, status: 500, computeMs: 0 });
    // The job queued before the "crash" ran too: nothing was left behind.
    expect((await read(base.id)).status).toBe('succeeded');
    expect(await next.store.jobsWithStatus(['validating_files', 'queued', 'running'])).toEqual([]);
    expect(meter.settled).toEqual([]);
  });
});
