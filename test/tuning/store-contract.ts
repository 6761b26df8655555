/**
 * One behaviour for every TuningStore, run in Node (SQLite file + folder blobs, store-sqlite.test.ts) and inside
 * workerd (D1 + R2, test/worker/tuning-store.test.ts). Runtime-neutral: Web APIs and vitest only. Each test uses
 * tenants and jobs of its own, so the tests share one store and still read only what they wrote.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore, TuningStore } from '../../functions/tuning/tuning-store.js';
import type { JobEvent, TenantModelRecord } from '../../functions/tuning/tuning-types.js';
import { jobRecord, randomId, storedFile } from './store-records.js';

export interface StoreSubject {
  store: TuningStore;
  /** The blob store under `store`, to see what it holds. */
  blobs: BlobStore;
}

let tenantCount = 0;
const newTenant = (name: string) => `t${++tenantCount}-${name}-${randomId('').slice(0, 6)}`;

const encode = (text: string) => new TextEncoder().encode(text);
const bytesOf = (n: number, fill = 120) => new Uint8Array(n).fill(fill);

const event = (jobId: string, message: string, createdAt = 1_800_000_000): Omit<JobEvent, 'seq'> => ({
  id: randomId('ftevent-'), jobId, createdAt, level: 'info', type: 'message', message, data: null,
});

/** Walks a listing page by page with `after` = the last id seen, as the openai client does. */
async function walk<T>(list: (after: string | undefined) => Promise<T[]>, idOf: (item: T) => string, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let after: string | undefined;
  for (;;) {
    const page = (await list(after)).map(idOf);
    pages.push(page);
    if (page.length < limit) return pages;
    after = page.at(-1);
  }
}

export function tuningStoreContract(name: string, open: () => Promise<StoreSubject>): void {
  describe(`${name}: the TuningStore contract`, () => {
    let store: TuningStore;
    let blobs: BlobStore;
    beforeAll(async () => {
      ({ store, blobs } = await open());
    });

    describe('files', () => {
      it('stores a file and its bytes for its tenant only', async () => {
        const [owner, other] = [newTenant('owner'), newTenant('other')];
        const bytes = encode('{"text":"good","label":"pos"}\n');
        const file = storedFile(owner, bytes.byteLength, { rows: 1, labels: ['pos'] });
        expect(await store.insertFile(file, bytes, 1_000_000)).toBe('stored');
        expect(await store.getFile(owner, file.id)).toEqual(file);
        expect(await store.fileBytes(owner, file.id)).toEqual(bytes);
        expect(await blobs.get(`${owner}/${file.id}`)).toEqual(bytes);

        expect(await store.getFile(other, file.id)).toBeNull();
        expect(await store.fileBytes(other, file.id)).toBeNull();
        expect(await store.listFiles(other, { limit: 10 })).toEqual([]);
        expect(await store.storedBytes(other)).toBe(0);
        expect(await store.deleteFile(other, file.id)).toBe(false);
        expect(await store.getFile(owner, file.id)).toEqual(file);
      });

      it('keeps null rows and labels (a results file)', async () => {
        const tenant = newTenant('results');
        const file = storedFile(tenant, 4, { purpose: 'fine-tune-results', filename: 'metrics.csv', rows: null, labels: null });
        expect(await store.insertFile(file, encode('a,b\n'), 100)).toBe('stored');
        expect(await store.getFile(tenant, file.id)).toEqual(file);
      });

      it('refuses a file over the quota and writes nothing, counting only the tenant', async () => {
        const [tenant, neighbour] = [newTenant('quota'), newTenant('neighbour')];
        expect(await store.insertFile(storedFile(neighbour, 900), bytesOf(900), 1000)).toBe('stored');
        const first = storedFile(tenant, 600);
        const exact = storedFile(tenant, 400);
        const over = storedFile(tenant, 1);
        expect(await store.insertFile(first, bytesOf(600), 1000)).toBe('stored');
        expect(await store.insertFile(exact, bytesOf(400), 1000)).toBe('stored');
        expect(await store.insertFile(over, bytesOf(1), 1000)).toBe('over_quota');
        expect(await store.storedBytes(tenant)).toBe(1000);
        expect(await store.getFile(tenant, over.id)).toBeNull();
        expect(await blobs.get(`${tenant}/${over.id}`)).toBeNull();
        expect((await store.listFiles(tenant, { limit: 10 })).map((f) => f.id).sort()).toEqual([first.id, exact.id].sort());
      });

      it('stores exactly as many concurrent uploads as fit the quota', async () => {
        const tenant = newTenant('race');
        const files = Array.from({ length: 10 }, () => storedFile(tenant, 300));
        const outcomes = await Promise.all(files.map((f) => store.insertFile(f, bytesOf(300), 1000)));
        expect(outcomes.filter((o) => o === 'stored')).toHaveLength(3);
        expect(await store.storedBytes(tenant)).toBe(900);
        const refused = files.filter((_, i) => outcomes[i] === 'over_quota');
        for (const file of refused) expect(await blobs.get(`${tenant}/${file.id}`)).toBeNull();
      });

      it('stores one of two concurrent uploads that together exceed the quota', async () => {
        const tenant = newTenant('pair');
        const outcomes = await Promise.all([storedFile(tenant, 600), storedFile(tenant, 600)].map((f) => store.insertFile(f, bytesOf(600), 1000)));
        expect(outcomes.sort()).toEqual(['over_quota', 'stored']);
        expect(await store.storedBytes(tenant)).toBe(600);
      });

      it('deletes the row, then the bytes, and frees the quota', async () => {
        const tenant = newTenant('delete');
        const file = storedFile(tenant, 10);
        await store.insertFile(file, bytesOf(10), 10);
        expect(await store.deleteFile(tenant, file.id)).toBe(true);
        expect(await store.getFile(tenant, file.id)).toBeNull();
        expect(await store.fileBytes(tenant, file.id)).toBeNull();
        expect(await blobs.get(`${tenant}/${file.id}`)).toBeNull();
        expect(await store.storedBytes(tenant)).toBe(0);
        expect(await store.deleteFile(tenant, file.id)).toBe(false);
        expect(await store.insertFile(storedFile(tenant, 10), bytesOf(10), 10)).toBe('stored');
      });

      it('reads ids that are not file ids as absent, and never stores one', async () => {
        const tenant = newTenant('shape');
        for (const id of ['../../etc/passwd', 'file-ABC', `${tenant}/file-x`, '']) {
          expect(await store.getFile(tenant, id)).toBeNull();
          expect(await store.fileBytes(tenant, id)).toBeNull();
          expect(await store.deleteFile(tenant, id)).toBe(false);
        }
        await expect(store.insertFile(storedFile(tenant, 1, { id: 'file-../../x' }), bytesOf(1), 10)).rejects.toThrow(/file id/);
        await expect(store.insertFile(storedFile('../evil', 1), bytesOf(1), 10)).rejects.toThrow(/tenant id/);
        await expect(store.insertFile(storedFile(tenant, 2), bytesOf(1), 10)).rejects.toThrow(/bytes/);
        expect(await store.storedBytes('../evil')).toBe(0);
      });

      it('lists newest first, pages with after, filters by purpose, and starts over on an unknown cursor', async () => {
        const [tenant, other] = [newTenant('list'), newTenant('list-other')];
        const times = [100, 300, 200, 300, 300, 50, 400];
        const files = times.map((createdAt, i) => storedFile(tenant, 1, { createdAt, purpose: i % 3 === 0 ? 'fine-tune-results' : 'fine-tune' }));
        for (const file of files) await store.insertFile(file, bytesOf(1), 1000);
        const foreign = storedFile(other, 1, { createdAt: 250 });
        await store.insertFile(foreign, bytesOf(1), 1000);

        const newestFirst = [...files].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)).map((f) => f.id);
        expect((await store.listFiles(tenant, { limit: 100 })).map((f) => f.id)).toEqual(newestFirst);
        const pages = await walk((after) => store.listFiles(tenant, { after, limit: 3 }), (f) => f.id, 3);
        expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
        expect(pages.flat()).toEqual(newestFirst);

        const tuning = files.filter((f) => f.purpose === 'fine-tune').map((f) => f.id);
        const tuningPages = await walk((after) => store.listFiles(tenant, { after, limit: 2, purpose: 'fine-tune' }), (f) => f.id, 2);
        expect(tuningPages.flat().sort()).toEqual([...tuning].sort());
        expect(tuningPages.flat()).toEqual(newestFirst.filter((id) => tuning.includes(id)));

        expect((await store.listFiles(tenant, { after: randomId('file-'), limit: 2 })).map((f) => f.id)).toEqual(newestFirst.slice(0, 2));
        // Another tenant's id tells nothing about where it sits: the same as an unknown cursor.
        expect((await store.listFiles(tenant, { after: foreign.id, limit: 2 })).map((f) => f.id)).toEqual(newestFirst.slice(0, 2));
        expect(await store.listFiles(tenant, { after: newestFirst.at(-1), limit: 5 })).toEqual([]);
      });
    });

    describe('jobs', () => {
      it('round-trips every field, JSON ones included, for its tenant only', async () => {
        const [tenant, other] = [newTenant('job'), newTenant('job-other')];
        const job = jobRecord(tenant, {
          validationFile: randomId('file-'), keyId: null, suffix: null, estimatedFinish: 1_800_000_100,
          error: { code: 'invalid_file', message: 'line 3: "label" is missing', param: 'training_file' },
          result: {
            labels: ['neg', 'pos'], trainRows: 90, holdoutRows: 10, holdoutAccuracy: 0.9, perLabel: [{ label: 'neg', precision: 1, recall: 0.8, support: 5 }],
            majorityBaseline: { label: 'pos', accuracy: 0.5 }, trainedTokens: 3000, epochs: 3, steps: 18, featureMs: 120.5, trainingMs: 33.25,
          },
          resultFiles: [randomId('file-')], attempts: 2,
        });
        await store.insertJob(job);
        expect(await store.getJob(tenant, job.id)).toEqual(job);
        expect(await store.getJob(other, job.id)).toBeNull();
        expect(await store.listJobs(other, { limit: 10 })).toEqual([]);
      });

      it('lists newest first and pages with after', async () => {
        const tenant = newTenant('jobs');
        const jobs = [5, 3, 5, 9, 1].map((createdAt) => jobRecord(tenant, { createdAt }));
        for (const job of jobs) await store.insertJob(job);
        await store.insertJob(jobRecord(newTenant('jobs-other'), { createdAt: 4 }));
        const newestFirst = [...jobs].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)).map((j) => j.id);
        const pages = await walk((after) => store.listJobs(tenant, { after, limit: 2 }), (j) => j.id, 2);
        expect(pages.flat()).toEqual(newestFirst);
        expect((await store.listJobs(tenant, { after: randomId('ftjob-'), limit: 1 })).map((j) => j.id)).toEqual(newestFirst.slice(0, 1));
      });

      it('updates only while the status is one of from (compare-and-set)', async () => {
        const tenant = newTenant('cas');
        const job = jobRecord(tenant);
        await store.insertJob(job);
        expect(await store.updateJob(job.id, ['running'], { status: 'succeeded' })).toBe(false);
        expect(await store.getJob(tenant, job.id)).toEqual(job);
        expect(await store.updateJob(job.id, ['validating_files', 'queued'], { status: 'running', startedAt: 1_800_000_010, attempts: 1 })).toBe(true);
        const error = { code: 'cancelled', message: 'cancelled by the user', param: null };
        expect(await store.updateJob(job.id, ['running'], { status: 'cancelled', finishedAt: 1_800_000_020, error, resultFiles: ['file-a'] })).toBe(true);
        expect(await store.getJob(tenant, job.id)).toEqual({ ...job, status: 'cancelled', startedAt: 1_800_000_010, attempts: 1, finishedAt: 1_800_000_020, error, resultFiles: ['file-a'] });
        expect(await store.updateJob(job.id, ['running'], { status: 'succeeded' })).toBe(false);
        expect(await store.updateJob(job.id, ['cancelled'], {})).toBe(true);
        expect(await store.updateJob(job.id, [], { status: 'queued' })).toBe(false);
        expect(await store.updateJob(randomId('ftjob-'), ['queued'], { status: 'running' })).toBe(false);
        await expect(store.updateJob(job.id, ['cancelled'], { tenantId: 'someone-else' })).rejects.toThrow(/tenantId/);
        expect((await store.getJob(tenant, job.id))?.status).toBe('cancelled');
      });

      it('lets exactly one of concurrent compare-and-sets win', async () => {
        const tenant = newTenant('cas-race');
        const job = jobRecord(tenant);
        await store.insertJob(job);
        const wins = await Promise.all(Array.from({ length: 8 }, (_, i) => store.updateJob(job.id, ['queued'], { status: 'running', startedAt: 1_800_000_000 + i })));
        expect(wins.filter(Boolean)).toHaveLength(1);
        expect((await store.getJob(tenant, job.id))?.startedAt).toBe(1_800_000_000 + wins.indexOf(true));
      });

      it('finds every tenant\'s jobs in some statuses, oldest first', async () => {
        const marker = 1_900_000_000 + tenantCount * 1000; // times no other test uses, so earlier jobs sort apart
        const a = jobRecord(newTenant('recover-a'), { status: 'running', createdAt: marker + 3 });
        const b = jobRecord(newTenant('recover-b'), { status: 'queued', createdAt: marker + 1 });
        const done = jobRecord(newTenant('recover-c'), { status: 'succeeded', createdAt: marker + 2 });
        for (const job of [a, b, done]) await store.insertJob(job);
        const found = (await store.jobsWithStatus(['queued', 'running'])).filter((j) => j.createdAt >= marker && j.createdAt < marker + 1000);
        expect(found).toEqual([b, a]);
        expect(await store.jobsWithStatus([])).toEqual([]);
      });
    });

    describe('events', () => {
      it('numbers events from 1 per job, lists newest first with after, and streams those after a seq', async () => {
        const [job, otherJob] = [randomId('ftjob-'), randomId('ftjob-')];
        const added: JobEvent[] = [];
        for (let i = 1; i <= 5; i++) added.push(await store.addEvent({ ...event(job, `step ${i}`), type: 'metrics', data: { step: i, loss: 1 / i } }));
        await store.addEvent(event(otherJob, 'elsewhere'));
        expect(added.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
        expect(added[2]).toMatchObject({ jobId: job, type: 'metrics', data: { step: 3, loss: 1 / 3 } });

        const newestFirst = [...added].reverse();
        expect(await store.listEvents(job, { limit: 2 })).toEqual(newestFirst.slice(0, 2));
        const pages = await walk((after) => store.listEvents(job, { after, limit: 2 }), (e) => e.id, 2);
        expect(pages.flat()).toEqual(newestFirst.map((e) => e.id));
        expect(await store.listEvents(job, { after: randomId('ftevent-'), limit: 1 })).toEqual(newestFirst.slice(0, 1));

        expect(await store.eventsAfter(job, 0)).toEqual(added);
        expect(await store.eventsAfter(job, 3)).toEqual(added.slice(3));
        expect(await store.eventsAfter(job, 5)).toEqual([]);
        expect((await store.eventsAfter(otherJob, 0)).map((e) => e.seq)).toEqual([1]);
      });

      it('gives concurrent events distinct, gapless seqs', async () => {
        const job = randomId('ftjob-');
        const added = await Promise.all(Array.from({ length: 25 }, (_, i) => store.addEvent(event(job, `event ${i}`))));
        expect(added.map((e) => e.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
        expect((await store.eventsAfter(job, 0)).map((e) => e.id)).toEqual([...added].sort((x, y) => x.seq - y.seq).map((e) => e.id));
      });
    });

    describe('tenant models', () => {
      const model = (tenantId: string, createdAt: number): TenantModelRecord => {
        const jobId = randomId('ftjob-');
        return { name: `ft:electra-imdb-small:${tenantId}:reviews:${jobId}`, tenantId, jobId, base: 'electra-imdb-small@1', labels: ['neg', 'pos'], head: Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256), createdAt };
      };

      it('stores the head bytes exactly, for its tenant only, and deletes them', async () => {
        const [tenant, other] = [newTenant('models'), newTenant('models-other')];
        const [older, newer] = [model(tenant, 10), model(tenant, 20)];
        await store.insertModel(older);
        await store.insertModel(newer);
        await store.insertModel(model(other, 15));

        const read = await store.getModel(tenant, older.name);
        expect(read).toEqual(older);
        expect(read?.head).toBeInstanceOf(Uint8Array);
        expect(Array.from(read!.head)).toEqual(Array.from(older.head));
        expect(await store.getModel(other, older.name)).toBeNull();
        expect((await store.listModels(tenant)).map((m) => m.name)).toEqual([newer.name, older.name]);

        expect(await store.deleteModel(other, older.name)).toBe(false);
        expect(await store.deleteModel(tenant, older.name)).toBe(true);
        expect(await store.deleteModel(tenant, older.name)).toBe(false);
        expect((await store.listModels(tenant)).map((m) => m.name)).toEqual([newer.name]);
        expect(await store.listModels(other)).toHaveLength(1);
      });
    });
  });
}
