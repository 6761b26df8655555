/**
 * One tenant cannot fill the queue: at most maxActiveJobsPerTenant jobs (default 5) validating, queued or running at
 * once, counted by the store (SQLite file, and DynamoDB on dynalite), refused past it with a 429 that says why.
 * Jobs are created where nothing runs them (a `dispatch` that does nothing), so they stay queued.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddingEngine } from '../../functions/engine/features/embedding-engine.js';
import { S3BlobStore } from '../../functions/lambda/s3-blob-store.js';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import { loadEncoder } from '../../functions/node/thread-trainer.js';
import type { Registry } from '../../functions/registry/registry.js';
import { DynamoTuningStore } from '../../functions/tuning/dynamo/dynamo-tuning-store.js';
import { FineTuningService, type FineTuningServiceOptions } from '../../functions/tuning/jobs/fine-tuning-service.js';
import type { SqlTuningStore } from '../../functions/tuning/sql-tuning-store.js';
import { EmbeddingTrainer } from '../../functions/tuning/trainer/train-classifier.js';
import type { TuningStore } from '../../functions/tuning/tuning-store.js';
import type { JobStatus, StoredFile } from '../../functions/tuning/tuning-types.js';
import { openTuningStore, putTrainingFile, RecordingMeter, refusal, sst2Rows } from './job-helpers.js';
import { startLocalAwsTuning, type LocalAwsTuning } from './local-aws-tuning.js';
import { jobRecord } from './store-records.js';

let dir: string;
let store: SqlTuningStore;
let closeStore: () => void;
let aws: LocalAwsTuning;
let registry: Registry;
let encoder: EmbeddingEngine;
const files = new Map<string, StoredFile>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'job-active-cap-'));
  ({ store, close: closeStore } = await openTuningStore(dir));
  aws = await startLocalAwsTuning();
  registry = await readLocalRegistry();
  encoder = await loadEncoder(registry.resolve('electra-imdb-small@1')!);
  const rows = await sst2Rows(20, 4_000);
  for (const tenant of ['acme', 'globex', 'initech']) files.set(tenant, await putTrainingFile(store, tenant, rows));
});

afterAll(async () => {
  closeStore?.();
  await aws?.close();
  await rm(dir, { recursive: true, force: true });
});

function routerService(over: Partial<FineTuningServiceOptions> = {}): { service: FineTuningService; meter: RecordingMeter } {
  const meter = new RecordingMeter();
  const trainer = new EmbeddingTrainer({ embedderFor: async () => encoder });
  return { service: new FineTuningService({ store, trainer, registry, embedderFor: () => encoder, meter, dispatch: async () => {}, ...over }), meter };
}

const create = (service: FineTuningService, tenantId: string) =>
  service.createJob({ tenantId, keyId: null }, { model: 'encoder', training_file: files.get(tenantId)!.id, hyperparameters: { n_epochs: 1 } });

describe('the per-tenant cap of active fine-tuning jobs', () => {
  it('refuses a tenant its 6th active job with 429 too_many_active_jobs naming the cap and its count; others still create theirs', async () => {
    const { service, meter } = routerService();
    const jobs = [];
    for (let i = 0; i < 5; i++) jobs.push(await create(service, 'acme'));
    const error = await refusal(create(service, 'acme'));
    expect([error.status, error.type, error.code, error.param]).toEqual([429, 'rate_limit_error', 'too_many_active_jobs', null]);
    expect(error.message).toMatch(/has 5 active fine-tuning jobs.*at most 5.*cancel one/);
    expect(error.headers).toEqual({ 'x-should-retry': 'false' });
    expect(meter.reserved).toHaveLength(5);
    expect(await store.countActiveJobs('acme')).toBe(5);

    // Another tenant is not held behind acme's backlog.
    expect((await create(service, 'globex')).status).toBe('queued');

    // A cancelled (finished) job frees its place.
    await service.cancelJob('acme', jobs[0]!.id);
    expect((await create(service, 'acme')).status).toBe('queued');
    expect((await refusal(create(service, 'acme'))).code).toBe('too_many_active_jobs');
  });

  it('takes its cap from the service options', async () => {
    const { service } = routerService({ maxActiveJobsPerTenant: 1 });
    await create(service, 'initech');
    const error = await refusal(create(service, 'initech'));
    expect([error.status, error.message]).toEqual([429, expect.stringMatching(/has 1 active .*at most 1 /)]);
    expect(() => routerService({ maxActiveJobsPerTenant: 0 })).toThrow(RangeError);
  });
});

const countContract = (name: string, open: () => TuningStore) =>
  it(`${name} counts a tenant's validating_files, queued and running jobs, and no finished job nor another tenant's`, async () => {
    const target = open();
    const tenant = `count-${crypto.randomUUID().slice(0, 8)}`;
    expect(await target.countActiveJobs(tenant)).toBe(0);
    const statuses: JobStatus[] = ['validating_files', 'queued', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];
    for (const [i, status] of statuses.entries()) await target.insertJob(jobRecord(tenant, { status, createdAt: 1_800_000_000 + i }));
    await target.insertJob(jobRecord(`${tenant}-other`, { status: 'queued' }));
    expect(await target.countActiveJobs(tenant)).toBe(4);
    const running = (await target.listJobs(tenant, { limit: 10 })).find((job) => job.status === 'running')!;
    await target.updateJob(running.id, ['running'], { status: 'succeeded' });
    expect(await target.countActiveJobs(tenant)).toBe(3);
  });

describe('TuningStore.countActiveJobs', () => {
  countContract('SQLite', () => store);
  countContract('DynamoDB', () => new DynamoTuningStore(aws.dynamo.client, aws.table, new S3BlobStore(aws.s3, aws.bucket)));
});
