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
});
