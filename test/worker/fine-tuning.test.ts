// Fine-tuning inside workerd, end to end through the Worker of wrangler.toml: a training file uploaded to R2 (records
// in D1), a job created through the FineTuningQueue Durable Object and trained there in its alarm on the bundled
// encoder, then the tenant's ft: model served by /v1/classify and POST /models/{id} to that tenant only, listed,
// and deleted. SST-2 dev sentences come in as the TEST_SST2 binding (vitest.workers.config.mts).
import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_EDGE_FEATURE_TOKENS } from '../../functions/worker/edge-training-limits.js';
import { eventually } from '../helpers/eventually.js';

type Row = { text: string; label: string };
type Job = { id: string; status: string; fine_tuned_model: string | null; trained_tokens: number | null; error: { code: string } | null };
type Scores = { label: string; score: number }[];

const sst2 = (env as { TEST_SST2: Row[] }).TEST_SST2;
const ADMIN = { authorization: 'Bearer worker-test-admin', 'content-type': 'application/json' };
const keys: Record<string, string> = {};

const call = (tenant: string, path: string, init: RequestInit = {}) =>
  exports.default.fetch(new Request(`http://edge.test${path}`, { ...init, headers: { authorization: `Bearer ${keys[tenant]}`, ...(init.headers as Record<string, string>) } }));
const postJson = (tenant: string, path: string, body: unknown) =>
  call(tenant, path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const json = async <T>(response: Response, status = 200): Promise<T> => {
  const text = await response.text();
  expect(response.status, text.slice(0, 500)).toBe(status);
  return JSON.parse(text) as T;
};

async function upload(tenant: string, rows: Row[], filename = 'train.jsonl'): Promise<string> {
  const form = new FormData();
  form.append('purpose', 'fine-tune');
  form.append('file', new Blob([rows.map((row) => JSON.stringify(row)).join('\n')]), filename);
  return (await json<{ id: string }>(await call(tenant, '/v1/files', { method: 'POST', body: form }))).id;
}

const job = (tenant: string, id: string) => call(tenant, `/v1/fine_tuning/jobs/${id}`).then((r) => json<Job>(r));

beforeAll(async () => {
  for (const tenant of ['ft_edge', 'ft_other']) {
    expect((await exports.default.fetch(new Request('http://edge.test/admin/tenants', { method: 'POST', headers: ADMIN, body: JSON.stringify({ id: tenant }) }))).status).toBe(201);
    const created = await exports.default.fetch(new Request('http://edge.test/admin/keys', { method: 'POST', headers: ADMIN, body: JSON.stringify({ tenant, rpm: 10_000 }) }));
    keys[tenant] = ((await json<{ key: string }>(created, 201))).key;
  }
});

describe('fine-tuning at the edge', () => {
  let model = '';

  it('trains a job in the queue object and serves its model to its tenant', async () => {
    const training = await upload('ft_edge', sst2.slice(0, 60));
    const created = await json<Job>(await postJson('ft_edge', '/v1/fine_tuning/jobs', { model: 'electra-imdb-small@1', training_file: training, suffix: 'edge', seed: 7 }));
    expect(['queued', 'running']).toContain(created.status);
    // A second job waits behind the first, and is cancelled through the queue object before it runs.
    const second = await json<Job>(await postJson('ft_edge', '/v1/fine_tuning/jobs', { model: 'encoder', training_file: training, seed: 8 }));
    expect((await json<Job>(await call('ft_edge', `/v1/fine_tuning/jobs/${second.id}/cancel`, { method: 'POST' }))).status).toBe('cancelled');

    const done = await eventually(() => job('ft_edge', created.id), (j) => !['queued', 'running', 'validating_files'].includes(j.status), 180_000, 500);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    model = done.fine_tuned_model!;
    expect(model).toBe(`ft:electra-imdb-small:ft_edge:edge:${created.id}`);
    expect(done.trained_tokens).toBeGreaterThan(0);
    const events = await json<{ data: { message: string }[] }>(await call('ft_edge', `/v1/fine_tuning/jobs/${created.id}/events?limit=100`));
    expect(events.data.map((e) => e.message)).toContain('Fine-tuning job started');
    expect((await job('ft_edge', second.id)).status).toBe('cancelled');
    // As server-sent events, read from D1 by this isolate (the queue object wrote them): all of them, then done.
    const stream = await call('ft_edge', `/v1/fine_tuning/jobs/${created.id}/events?stream=true`);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const sse = await stream.text();
    expect(sse).toContain('Fine-tuning job started');
    expect(sse).toMatch(/event: done\ndata: \{[^\n]*"status":"succeeded"/);

    const texts = ['a gorgeous, witty, seductive movie', 'a dull, pointless mess'];
    const classified = await json<{ model: string; results: Scores[] }>(await postJson('ft_edge', '/v1/classify', { model, input: texts }));
    expect(classified.model).toBe(model);
    for (const scores of classified.results) {
      expect(scores.map((s) => s.label).sort()).toEqual(['negative', 'positive']);
      expect(scores.reduce((sum, s) => sum + s.score, 0)).toBeCloseTo(1, 5);
    }
    const hf = await json<Scores[]>(await postJson('ft_edge', `/models/${encodeURIComponent(model)}`, { inputs: texts[0] }));
    expect(hf.flat().find((s) => s.label === classified.results[0]![0]!.label)!.score).toBeCloseTo(classified.results[0]![0]!.score, 5);
    const listed = await json<{ data: { id: string; owned_by: string }[] }>(await call('ft_edge', '/v1/models'));
    expect(listed.data.find((m) => m.id === model)).toMatchObject({ owned_by: 'ft_edge' });
  });

  it("keeps a tenant's job and model from every other tenant: 404, as a name nobody serves", async () => {
    expect(model).not.toBe('');
    const jobId = model.split(':').at(-1)!;
    expect((await call('ft_other', `/v1/fine_tuning/jobs/${jobId}`)).status).toBe(404);
    expect((await postJson('ft_other', '/v1/classify', { model, input: 'a fine film' })).status).toBe(404);
    expect((await postJson('ft_other', `/models/${encodeURIComponent(model)}`, { inputs: 'a fine film' })).status).toBe(404);
    const listed = await json<{ data: { id: string }[] }>(await call('ft_other', '/v1/models'));
    expect(listed.data.map((m) => m.id)).not.toContain(model);
  });

  it('deletes the model for its tenant only', async () => {
    expect((await call('ft_other', `/v1/models/${encodeURIComponent(model)}`, { method: 'DELETE' })).status).toBe(404);
    expect(await json<{ id: string; deleted: boolean }>(await call('ft_edge', `/v1/models/${encodeURIComponent(model)}`, { method: 'DELETE' }))).toMatchObject({ id: model, deleted: true });
    expect((await postJson('ft_edge', '/v1/classify', { model, input: 'a fine film' })).status).toBe(404);
  });

  it('cancels a job while the encoder reads its texts: the run yields to the cancel between two chunks', async () => {
    // Enough texts that reading them outlasts the test's look at the events (about 60,000 tokens, under the edge's cap).
    const rows = [0, 1, 2].flatMap((k) => sst2.slice(0, 800).map((row) => ({ ...row, text: `${row.text} (${k})` })));
    const training = await upload('ft_edge', rows, 'reading.jsonl');
    const created = await json<Job>(await postJson('ft_edge', '/v1/fine_tuning/jobs', { model: 'encoder', training_file: training }));
    const reading = (events: { data: { data: { phase?: string; step?: number } | null }[] }) => events.data.some((e) => e.data?.phase === 'features' && e.data.step! > 0);
    await eventually(() => call('ft_edge', `/v1/fine_tuning/jobs/${created.id}/events?limit=100`).then((r) => json<{ data: { data: { phase?: string; step?: number } | null }[] }>(r)), reading, 60_000, 100);
    const cancelled = await json<Job>(await call('ft_edge', `/v1/fine_tuning/jobs/${created.id}/cancel`, { method: 'POST' }));
    expect(cancelled).toMatchObject({ status: 'cancelled', fine_tuned_model: null });
    // Cancelled before the head trained a step: the cancel did not wait for the encoder to read every text.
    const events = await json<{ data: { message: string; data: { epoch?: number } | null }[] }>(await call('ft_edge', `/v1/fine_tuning/jobs/${created.id}/events?limit=100`));
    expect(events.data.filter((e) => e.data?.epoch !== undefined)).toEqual([]);
    expect((await json<{ data: { id: string }[] }>(await call('ft_edge', '/v1/models'))).data.map((m) => m.id).filter((id) => id.endsWith(created.id))).toEqual([]);
  });

  it('refuses a job larger than the edge trains within its CPU limit, naming the limit and the Node server', async () => {
    // Each text is read in at most 16 windows of 128 tokens: enough long texts to pass the cap.
    const long = sst2.slice(0, 40).map((r) => r.text).join(' ');
    const texts = Array.from({ length: Math.ceil(MAX_EDGE_FEATURE_TOKENS / 2_000) + 2 }, (_, i) => ({ text: `${i} ${long} ${long} ${long}`, label: i % 2 ? 'a' : 'b' }));
    const training = await upload('ft_edge', texts, 'large.jsonl');
    const refused = await json<{ error: { code: string; message: string; param: string } }>(
      await postJson('ft_edge', '/v1/fine_tuning/jobs', { model: 'encoder', training_file: training }), 400);
    expect(refused.error).toMatchObject({ code: 'job_too_large_for_edge', param: 'training_file' });
    expect(refused.error.message).toMatch(new RegExp(`at most ${MAX_EDGE_FEATURE_TOKENS}.*limits\\.cpu_ms.*Node server`));
    const jobs = await json<{ data: Job[] }>(await call('ft_edge', '/v1/fine_tuning/jobs'));
    expect(jobs.data.every((j) => j.status !== 'queued')).toBe(true);
  });
});
