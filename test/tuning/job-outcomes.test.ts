/**
 * How a job ends, on small real jobs (SQLite file, electra-imdb-small encoder, the inline EmbeddingTrainer): what a
 * failed job reports as trained, what a request whose file cannot be measured gets, what a model worse than the
 * majority baseline says, and the result file's shape.
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
import { EmbeddingTrainer } from '../../functions/tuning/trainer/train-classifier.js';
import type { LabelledText } from '../../functions/tuning/trainer/trainer.js';
import type { SqlTuningStore } from '../../functions/tuning/sql-tuning-store.js';
import { openTuningStore, putTrainingFile, RecordingMeter, refusal, sst2Rows } from './job-helpers.js';

let dir: string;
let store: SqlTuningStore;
let closeStore: () => void;
let registry: Registry;
let encoder: EmbeddingEngine;
let rows: LabelledText[];
const services: FineTuningService[] = [];

function newService(over: Partial<FineTuningServiceOptions> = {}): { service: FineTuningService; meter: RecordingMeter } {
  const meter = new RecordingMeter();
  const trainer = new EmbeddingTrainer({ embedderFor: async () => encoder });
  const service = new FineTuningService({ store, trainer, registry, embedderFor: () => encoder, meter, ...over });
  services.push(service);
  return { service, meter };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'job-outcomes-'));
  ({ store, close: closeStore } = await openTuningStore(dir));
  registry = await readLocalRegistry();
  encoder = await loadEncoder(registry.resolve('electra-imdb-small@1')!);
  rows = await sst2Rows(60, 2_000);
});

afterAll(async () => {
  for (const service of services) await service.close();
  closeStore?.();
  await rm(dir, { recursive: true, force: true });
});

const acme = { tenantId: 'acme', keyId: 'key_acme' };
const small = { n_epochs: 1, batch_size: 16 };

describe('how a fine-tuning job ends', () => {
  it('a failed job reports the tokens it was billed for (none), not the estimate it was created with', async () => {
    const file = await putTrainingFile(store, 'acme', rows);
    // Created where nothing runs it (as a router with a runner elsewhere), its file deleted before a runner takes it.
    const { service: router } = newService({ dispatch: async () => {} });
    const created = await router.createJob(acme, { model: 'encoder', training_file: file.id, hyperparameters: small });
    expect(created.trainedTokens).toBeGreaterThan(0);
    await store.deleteFile('acme', file.id);
    const { service: runner, meter } = newService();
    await runner.start();
    await runner.idle();
    const failed = await runner.getJob('acme', created.id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'file_not_found' }, trainedTokens: 0 });
    expect(meter.settled.map((s) => s.usage.trainedTokens)).toEqual([0]);
  });

  it('refuses a training file where no label has 2 rows (and no validation file) at creation, with nothing stored or reserved', async () => {
    const singles = await putTrainingFile(store, 'acme', rows.slice(0, 3).map((row, i) => ({ text: row.text, label: `label${i}` })));
    const { service, meter } = newService();
    const before = await store.listJobs('acme', { limit: 100 });
    const error = await refusal(service.createJob(acme, { model: 'encoder', training_file: singles.id, hyperparameters: small }));
    expect([error.status, error.code, error.param]).toEqual([400, 'invalid_training_file', 'training_file']);
    expect(error.message).toMatch(/label with at least 2 rows.*validation_file/);
    expect(meter.reserved).toEqual([]);
    expect(await store.listJobs('acme', { limit: 100 })).toEqual(before);

    // A validation file measures the model instead: the same training file is then accepted.
    const validation = await putTrainingFile(store, 'acme', [{ text: rows[3]!.text, label: 'label0' }]);
    const accepted = await service.createJob(acme, { model: 'encoder', training_file: singles.id, validation_file: validation.id, hyperparameters: small });
    await service.idle();
    expect((await service.getJob('acme', accepted.id)).status).toBe('succeeded');
  });

  it("writes the result file in the job's own result shape, snake_case as the routes answer it", async () => {
    const file = await putTrainingFile(store, 'acme', rows);
    const { service } = newService();
    const created = await service.createJob(acme, { model: 'encoder', training_file: file.id, hyperparameters: small, seed: 3 });
    await service.idle();
    const job = await service.getJob('acme', created.id);
    expect(job.status).toBe('succeeded');
    const written = JSON.parse(new TextDecoder().decode((await store.fileBytes('acme', job.resultFiles[0]!))!)) as Record<string, unknown>;
    expect(written).toEqual(jobObject(job).result);
    expect(written).toMatchObject({ train_rows: job.result!.trainRows, holdout_accuracy: job.result!.holdoutAccuracy, majority_baseline: job.result!.majorityBaseline });
    expect(written).not.toHaveProperty('holdoutAccuracy');
  });

  it('a model worse than always answering the majority label succeeds with a warning and below_majority_baseline', async () => {
    // 50 rows of one label and 1 of another: the hold-out is all "a", which the head, pulled towards "b", mostly misses.
    const skewed = [...rows.slice(0, 50).map((row) => ({ text: row.text, label: 'a' })), { text: rows[50]!.text, label: 'b' }];
    const file = await putTrainingFile(store, 'acme', skewed);
    const { service } = newService();
    const created = await service.createJob(acme, { model: 'encoder', training_file: file.id, hyperparameters: { n_epochs: 2 }, seed: 1 });
    await service.idle();
    const job = await service.getJob('acme', created.id);
    expect(job.status).toBe('succeeded');
    const { holdoutAccuracy, majorityBaseline } = job.result!;
    expect(majorityBaseline).toEqual({ label: 'a', accuracy: 1 });
    expect(holdoutAccuracy).toBeLessThan(majorityBaseline.accuracy);
    expect(job.result!.belowMajorityBaseline).toBe(true);
    expect(jobObject(job).result).toMatchObject({ below_majority_baseline: true });

    const warnings = (await service.eventsAfter('acme', job.id, 0)).filter((e) => e.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain(holdoutAccuracy.toFixed(4));
    expect(warnings[0]!.message).toContain('1.0000');
    expect(warnings[0]!.message).toMatch(/epochs.*rows.*balanced/);
    expect(warnings[0]!.data).toEqual({ holdout_accuracy: holdoutAccuracy, majority_baseline: { label: 'a', accuracy: 1 } });

    // A model that beats the baseline says so too, and warns of nothing: film reviews told from invoice lines.
    const invoices = rows.slice(0, 30).map((_, i) => ({ text: `invoice ${4_100 + i * 7} paid on ${1 + (i % 28)} march`, label: 'invoice' }));
    const separable = await putTrainingFile(store, 'acme', [...rows.slice(0, 30).map((row) => ({ text: row.text, label: 'review' })), ...invoices]);
    const fine = await service.createJob(acme, { model: 'encoder', training_file: separable.id, hyperparameters: { n_epochs: 3 }, seed: 1 });
    await service.idle();
    const good = await service.getJob('acme', fine.id);
    expect(good.result!.holdoutAccuracy).toBeGreaterThanOrEqual(good.result!.majorityBaseline.accuracy);
    expect([good.result!.belowMajorityBaseline, jobObject(good).result!.below_majority_baseline]).toEqual([false, false]);
    expect((await service.eventsAfter('acme', good.id, 0)).filter((e) => e.level === 'warn')).toEqual([]);
  });
});
