/**
 * The fine-tuning service over the real things: the SQLite store on a temp file, the electra-imdb-small encoder
 * (onnxruntime-web, as the server loads it) and the inline EmbeddingTrainer, on SST-2 train rows.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddingEngine } from '../../functions/engine/features/embedding-engine.js';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import { loadEncoder } from '../../functions/node/thread-trainer.js';
import type { Registry } from '../../functions/registry/registry.js';
import { FineTuningService, type FineTuningServiceOptions } from '../../functions/tuning/jobs/fine-tuning-service.js';
import { jobObject } from '../../functions/tuning/routes/openai-objects.js';
import { decodeHead } from '../../functions/tuning/trainer/classifier-head.js';
import { holdoutSplit } from '../../functions/tuning/trainer/holdout-split.js';
import { EmbeddingTrainer } from '../../functions/tuning/trainer/train-classifier.js';
import type { LabelledText } from '../../functions/tuning/trainer/trainer.js';
import type { SqlTuningStore } from '../../functions/tuning/sql-tuning-store.js';
import type { JobEvent, JobStatus, StoredFile } from '../../functions/tuning/tuning-types.js';
import { openTuningStore, putTrainingFile, RecordingMeter, refusal, sst2Rows } from './job-helpers.js';

let dir: string;
let store: SqlTuningStore;
let closeStore: () => void;
let registry: Registry;
let encoder: EmbeddingEngine;
let rows: LabelledText[];
let trainingFile: StoredFile;
const services: FineTuningService[] = [];

const tokensOf = (texts: LabelledText[]) => encoder.countTokens(texts.map((row) => row.text)).reduce((a, b) => a + b, 0);

function newService(over: Partial<FineTuningServiceOptions> = {}): { service: FineTuningService; meter: RecordingMeter } {
  const meter = (over.meter as RecordingMeter | undefined) ?? new RecordingMeter();
  const trainer = new EmbeddingTrainer({ embedderFor: async () => encoder });
  const service = new FineTuningService({ store, trainer, registry, embedderFor: () => encoder, ...over, meter });
  services.push(service);
  return { service, meter };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'job-service-'));
  ({ store, close: closeStore } = await openTuningStore(dir));
  registry = await readLocalRegistry();
  encoder = await loadEncoder(registry.resolve('electra-imdb-small@1')!);
  rows = await sst2Rows(200);
  trainingFile = await putTrainingFile(store, 'acme', rows);
});

afterAll(async () => {
  for (const service of services) await service.close();
  closeStore?.();
  await rm(dir, { recursive: true, force: true });
});

const acme = { tenantId: 'acme', keyId: 'key_acme' };

describe('FineTuningService', () => {
  it('queues a job, trains it and stores its tenant model, result file, usage and ordered events', async () => {
    const { service, meter } = newService();
    await service.start();
    const started = Date.now();
    const created = await service.createJob(acme, { model: 'encoder', training_file: trainingFile.id, hyperparameters: { n_epochs: 3, batch_size: 16 }, suffix: 'reviews', seed: 7 });
    const live: [JobEvent, JobStatus][] = [];
    const runningRecords: Promise<unknown>[] = [];
    service.subscribe(created.id, (event, status) => {
      live.push([event, status]);
      if (event.type === 'metrics' && runningRecords.length === 0) runningRecords.push(service.getJob('acme', created.id));
    });

    expect(created).toMatchObject({ status: 'queued', model: 'electra-imdb-small@1', seed: 7, suffix: 'reviews', tenantId: 'acme', keyId: 'key_acme', attempts: 0 });
    expect(created.hyperparameters).toEqual({ nEpochs: 3, batchSize: 16, learningRateMultiplier: 1 });
    const estimatedTokens = tokensOf(rows) * 3;
    expect(created.trainedTokens).toBe(estimatedTokens);
    expect(meter.reserved).toEqual([{ charge: { usageId: created.usageId, jobId: created.id, tenantId: 'acme', keyId: 'key_acme', model: { id: 'electra-imdb-small', version: '1' } },
      costMicroUsd: Math.ceil(0.01 * estimatedTokens), trainedTokens: estimatedTokens }]);

    await service.idle();
    const job = await service.getJob('acme', created.id);
    const name = `ft:electra-imdb-small:acme:reviews:${created.id}`;
    expect(job).toMatchObject({ status: 'succeeded', fineTunedModel: name, attempts: 1, error: null, estimatedFinish: null });
    expect(job.startedAt).toBeGreaterThanOrEqual(created.createdAt);
    expect(job.finishedAt).toBeGreaterThanOrEqual(job.startedAt!);
    // The trainer bills the rows it trained on (its seeded hold-out is read, not trained): below the estimate.
    const trained = tokensOf(holdoutSplit(rows, 7).train) * 3;
    expect(job.trainedTokens).toBe(trained);
    expect(job.result).toMatchObject({ labels: ['negative', 'positive'], trainRows: 180, holdoutRows: 20, trainedTokens: trained, epochs: 3 });

    const running = (await runningRecords[0]) as typeof job;
    expect(running.status).toBe('running');
    expect(running.estimatedFinish).toBeGreaterThanOrEqual(running.startedAt!);

    const model = await store.getModel('acme', name);
    expect(model).toMatchObject({ jobId: created.id, base: 'electra-imdb-small@1', labels: ['negative', 'positive'] });
    const head = decodeHead(model!.head);
    expect([head.dimensions, head.labels]).toEqual([encoder.dimensions, ['negative', 'positive']]);
    expect(await store.getModel('other', name)).toBeNull();

    const [resultId] = job.resultFiles;
    expect(await store.getFile('acme', resultId!)).toMatchObject({ purpose: 'fine-tune-results' });
    expect(JSON.parse(new TextDecoder().decode((await store.fileBytes('acme', resultId!))!))).toEqual(jobObject(job).result);
    expect(meter.settled).toEqual([{ charge: meter.reserved[0]!.charge, usage: { trainedTokens: trained, costMicroUsd: Math.ceil(0.01 * trained), status: 200, computeMs: expect.any(Number) } }]);

    const events = await service.eventsAfter('acme', created.id, 0);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const messages = events.map((e) => e.message);
    expect(messages.slice(0, 3)).toEqual(['Validating training file', 'Files validated, moving job to queued state', 'Fine-tuning job started']);
    expect(messages.slice(-2)).toEqual(['New fine-tuned model created', 'The job has successfully completed']);
    const epochs = events.filter((e) => e.type === 'metrics' && e.data?.holdout_accuracy !== undefined);
    expect(epochs.map((e) => e.data!.epoch)).toEqual([1, 2, 3]);
    expect(epochs.at(-1)!.data).toMatchObject({ step: 36, total_steps: 36, holdout_accuracy: job.result!.holdoutAccuracy });
    // Step events come at most every 500 ms: no more than the run's seconds x 2, plus the epochs' own.
    const steps = events.filter((e) => e.type === 'metrics' && e.data?.holdout_accuracy === undefined);
    expect(steps.length).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 500) + 1);
    expect((await service.listEvents('acme', created.id, { limit: 3 })).map((e) => e.seq)).toEqual([events.length, events.length - 1, events.length - 2]);

    // Live: every event from the first one this listener saw, in order, with the status after it.
    const firstLive = live[0]![0].seq;
    expect(live.map(([e]) => e.seq)).toEqual(events.filter((e) => e.seq >= firstLive).map((e) => e.seq));
    expect(live.at(-1)![1]).toBe('succeeded');

    // Another tenant sees no such job.
    expect((await refusal(service.getJob('other', created.id))).status).toBe(404);
    expect((await refusal(service.eventsAfter('other', created.id, 0))).code).toBe('job_not_found');
    expect(await service.listJobs('other', { limit: 10 })).toEqual([]);
    expect((await service.listJobs('acme', { limit: 10 })).map((j) => j.id)).toContain(created.id);
  });

  it('refuses a bad request with a 4xx naming the field, and stores and reserves nothing', async () => {
    const { service, meter } = newService();
    const otherFile = await putTrainingFile(store, 'other', rows.slice(0, 20));
    const unknownLabel = await putTrainingFile(store, 'acme', [{ text: 'meh', label: 'neutral' }, ...rows.slice(0, 5)]);
    const results = await putTrainingFile(store, 'acme', rows.slice(0, 4));
    await store.deleteFile('acme', results.id);
    const resultsFile = { ...results, id: results.id.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')), purpose: 'fine-tune-results' as const };
    await store.insertFile(resultsFile, new TextEncoder().encode('x'.repeat(resultsFile.bytes)), 1 << 30);
    const base = { model: 'electra-imdb-small', training_file: trainingFile.id };
    const cases: [Parameters<FineTuningService['createJob']>[1], number, string, string | null][] = [
      [{ ...base, model: 'no-such-model' }, 404, 'model_not_found', 'model'],
      [{ ...base, model: 'sentiment' }, 400, 'model_not_fine_tunable', 'model'],
      [{ ...base, training_file: otherFile.id }, 404, 'file_not_found', 'training_file'],
      [{ ...base, training_file: 'file-does-not-exist' }, 404, 'file_not_found', 'training_file'],
      [{ ...base, validation_file: otherFile.id }, 404, 'file_not_found', 'validation_file'],
      [{ ...base, validation_file: unknownLabel.id }, 400, 'invalid_validation_file', 'validation_file'],
      [{ ...base, training_file: resultsFile.id }, 400, 'invalid_file_purpose', 'training_file'],
      [{ ...base, suffix: 'Not OK!' }, 400, 'invalid_suffix', 'suffix'],
      [{ ...base, suffix: 'a'.repeat(41) }, 400, 'invalid_suffix', 'suffix'],
      [{ ...base, seed: -1 }, 400, 'invalid_seed', 'seed'],
      [{ ...base, seed: 2 ** 31 }, 400, 'invalid_seed', 'seed'],
      [{ ...base, seed: 1.5 }, 400, 'invalid_seed', 'seed'],
      [{ ...base, hyperparameters: { n_epochs: 0 } }, 400, 'invalid_request', 'hyperparameters.n_epochs'],
      [{ ...base, hyperparameters: { batch_size: 1000 } }, 400, 'invalid_request', 'hyperparameters.batch_size'],
    ];
    for (const [request, status, code, param] of cases) {
      const error = await refusal(service.createJob({ tenantId: 'acme', keyId: null }, request));
      expect({ request, status: error.status, code: error.code, param: error.param }).toEqual({ request, status, code, param });
    }
    expect(meter.reserved).toEqual([]);
    expect(await store.jobsWithStatus(['validating_files', 'queued', 'running', 'failed'])).toEqual([]);
  });

  it('a budget that refuses the job leaves no job behind', async () => {
    const { service } = newService({ meter: new RecordingMeter(true) });
    const before = await store.listJobs('acme', { limit: 100 });
    const error = await refusal(service.createJob(acme, { model: 'encoder', training_file: trainingFile.id }));
    expect([error.status, error.code]).toEqual([402, 'budget_exhausted']);
    expect(await store.listJobs('acme', { limit: 100 })).toEqual(before);
  });

  it('cancels a queued job at once, a running one when its run stops (billing its completed epochs), and refuses a finished one', async () => {
    const { service, meter } = newService();
    const long = { model: 'encoder', training_file: trainingFile.id, hyperparameters: { n_epochs: 50, batch_size: 1 }, seed: 11 };
    const first = await service.createJob(acme, long);
    const second = await service.createJob(acme, { ...long, seed: 12 });
    // Cancelled from the listener of its first epoch's event: on a loaded machine, a test that awaits the event first
    // lets the run go on for dozens of epochs before its cancel.
    let cancelling: Promise<Awaited<ReturnType<typeof service.cancelJob>>> | undefined;
    const cancelledAfterAnEpoch = new Promise<Awaited<ReturnType<typeof service.cancelJob>>>((resolve, reject) => {
      service.subscribe(first.id, (event) => {
        if (event.data?.holdout_accuracy === undefined || cancelling) return;
        cancelling = service.cancelJob('acme', first.id);
        cancelling.then(resolve, reject);
      });
    });

    const queued = await service.cancelJob('acme', second.id);
    expect(queued).toMatchObject({ status: 'cancelled', trainedTokens: 0, startedAt: null });
    expect(meter.settled.find((s) => s.charge.jobId === second.id)!.usage).toEqual({ trainedTokens: 0, costMicroUsd: 0, status: 499, computeMs: 0 });

    const cancelled = await cancelledAfterAnEpoch;
    expect(cancelled.status).toBe('cancelled');
    const perEpoch = tokensOf(holdoutSplit(rows, 11).train);
    const epochs = cancelled.trainedTokens! / perEpoch;
    expect(Number.isInteger(epochs) && epochs >= 1 && epochs < 50).toBe(true);
    expect(meter.settled.find((s) => s.charge.jobId === first.id)!.usage).toMatchObject({ trainedTokens: cancelled.trainedTokens, costMicroUsd: Math.ceil(0.01 * cancelled.trainedTokens!), status: 499 });
    expect(await store.getModel('acme', `ft:electra-imdb-small:acme::${first.id}`)).toBeNull();
    const last = (await service.listEvents('acme', first.id, { limit: 1 }))[0]!;
    expect(last.message).toBe('The job was cancelled');

    for (const id of [first.id, second.id]) {
      const error = await refusal(service.cancelJob('acme', id));
      expect([error.status, error.code, error.message]).toEqual([409, 'job_finished', expect.stringContaining('cancelled')]);
    }
    await service.idle();
  });
});
