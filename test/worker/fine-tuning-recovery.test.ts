// The queue object's recovery inside workerd: jobs that an evicted (or reset) FineTuningQueue left `running` in D1 are
// found by the next instance's first alarm: re-queued and trained once more, or failed `interrupted` after their
// second run. A queue object of its own name stands for the instance that replaced the evicted one.
import { env, runInDurableObject } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { SqlTuningStore } from '../../functions/tuning/sql-tuning-store.js';
import { d1Database, type D1Database } from '../../functions/worker/d1-database.js';
import type { FineTuningQueue } from '../../functions/worker/fine-tuning-queue.js';
import type { DurableObjectNamespaceLike } from '../../functions/worker/key-rate-limiter.js';
import { R2BlobStore, type R2BucketBinding } from '../../functions/worker/r2-blob-store.js';
import { eventually } from '../helpers/eventually.js';
import { jobRecord } from '../tuning/store-records.js';

const bindings = env as { DB: D1Database; TUNING_BUCKET: R2BucketBinding; FINE_TUNING: DurableObjectNamespaceLike; TEST_SST2: { text: string; label: string }[] };
const ADMIN = { authorization: 'Bearer worker-test-admin', 'content-type': 'application/json' };
const admin = (path: string, body: unknown) => exports.default.fetch(new Request(`http://edge.test${path}`, { method: 'POST', headers: ADMIN, body: JSON.stringify(body) }));

describe('a queue object that replaces an evicted one', () => {
  it('re-queues and trains a job left running once, and fails one left running a second time', async () => {
    expect((await admin('/admin/tenants', { id: 'ft_recover' })).status).toBe(201);
    const { key, id: keyId } = (await (await admin('/admin/keys', { tenant: 'ft_recover', rpm: 10_000 })).json()) as { key: string; id: string };
    const auth = { authorization: `Bearer ${key}` };
    const form = new FormData();
    form.append('purpose', 'fine-tune');
    form.append('file', new Blob([bindings.TEST_SST2.slice(100, 140).map((row) => JSON.stringify(row)).join('\n')]), 'train.jsonl');
    const uploaded = await exports.default.fetch(new Request('http://edge.test/v1/files', { method: 'POST', headers: auth, body: form }));
    expect(uploaded.status).toBe(200);
    const { id: fileId } = (await uploaded.json()) as { id: string };

    const store = new SqlTuningStore(d1Database(bindings.DB), new R2BlobStore(bindings.TUNING_BUCKET));
    const left = { tenantId: 'ft_recover', keyId, trainingFile: fileId, status: 'running' as const, startedAt: 1_800_000_000, hyperparameters: { nEpochs: 3, batchSize: 8, learningRateMultiplier: 1 } };
    const once = jobRecord('ft_recover', { ...left, attempts: 1 });
    const twice = jobRecord('ft_recover', { ...left, attempts: 2 });
    await store.insertJob(once);
    await store.insertJob(twice);

    const stub = bindings.FINE_TUNING.get(bindings.FINE_TUNING.idFromName('fine-tuning-after-eviction'));
    await runInDurableObject<FineTuningQueue, void>(stub, (queue) => queue.alarm());
    const job = (id: string) => exports.default.fetch(new Request(`http://edge.test/v1/fine_tuning/jobs/${id}`, { headers: auth })).then((r) => r.json() as Promise<{ status: string; error: { code: string } | null; fine_tuned_model: string | null }>);
    expect(await eventually(() => job(twice.id), (j) => j.status !== 'running', 30_000, 200)).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
    const recovered = await eventually(() => job(once.id), (j) => !['queued', 'running'].includes(j.status), 120_000, 500);
    expect(recovered).toMatchObject({ status: 'succeeded', error: null, fine_tuned_model: `ft:electra-imdb-small:ft_recover:reviews:${once.id}` });
    const events = (await (await exports.default.fetch(new Request(`http://edge.test/v1/fine_tuning/jobs/${once.id}/events?limit=100`, { headers: auth }))).json()) as { data: { level: string; message: string }[] };
    expect(events.data).toContainEqual(expect.objectContaining({ level: 'warn', message: 're-queued after the server restarted' }));
  });
});
