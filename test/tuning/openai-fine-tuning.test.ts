// Fine-tuning end to end with the official openai client against the real Node server (startServer on 127.0.0.1,
// keys mode, a fresh SQLite file, the worker-thread trainer over the real encoder): upload, train, events, serve the
// model to its tenant only, delete it; a budget too small refused at create; the training billed per trained token.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FineTuningJob } from 'openai/resources/fine-tuning/jobs/jobs';
import { sqliteRows } from '../billing/sqlite-rows.js';
import { useKeysServer } from '../billing/helpers.js';
import { sst2Dir } from '../paths.js';

const BASE = 'electra-imdb-small';
const ctx = useKeysServer({ generation: false, fineTuning: { concurrency: 1 } });
const keys = {} as Record<'acme' | 'globex' | 'acmeBroke', string>;
const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${ctx.server.url}/v1`, maxRetries: 0 });
const post = (key: string, path: string, body: unknown) =>
  fetch(`${ctx.server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const statusOf = (promise: Promise<unknown>) => promise.then(() => 200, (error: { status?: number }) => error.status ?? -1);

async function sst2File(rows: number): Promise<Uint8Array> {
  const lines = (await readFile(join(sst2Dir, 'train.tsv'), 'utf8')).split('\n').slice(1, 1 + rows).map((line) => {
    const [text, label] = line.split('\t');
    return JSON.stringify({ text: text!.trim(), label: label!.trim() === '1' ? 'positive' : 'negative' });
  });
  return new TextEncoder().encode(`${lines.join('\n')}\n`);
}

async function until(job: FineTuningJob, openai: OpenAI, done: (job: FineTuningJob) => boolean, timeoutMs: number): Promise<FineTuningJob> {
  const deadline = Date.now() + timeoutMs;
  let current = job;
  while (!done(current)) {
    if (Date.now() > deadline) throw new Error(`job ${job.id} still ${current.status} after ${timeoutMs} ms`);
    await new Promise((wait) => setTimeout(wait, 500));
    current = await openai.fineTuning.jobs.retrieve(job.id);
  }
  return current;
}

let fileId: string;
let job: FineTuningJob;
let model: string;

beforeAll(async () => {
  keys.acme = (await ctx.admin.key('acme')).key;
  keys.globex = (await ctx.admin.key('globex')).key;
  keys.acmeBroke = (await ctx.admin.key('acme', { monthly_budget_micro_usd: 1 })).key;
  const acme = client(keys.acme);
  fileId = (await acme.files.create({ file: await toFile(await sst2File(300), 'sst2-300.jsonl'), purpose: 'fine-tune' })).id;
  const created = await acme.fineTuning.jobs.create({ model: BASE, training_file: fileId, suffix: 'sst2', seed: 42, hyperparameters: { n_epochs: 3 } });
  job = await until(created, acme, (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status), 240_000);
  model = job.fine_tuned_model!;
}, 300_000);

describe('fine-tuning with the official openai client', () => {
  it('trains the uploaded file into a model named after base, tenant, suffix and job', () => {
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(model).toBe(`ft:${BASE}:acme:sst2:${job.id}`);
    expect(job.trained_tokens).toBeGreaterThan(300 * 3);
  });

  it('lists the job\'s events, newest first, from created to succeeded', async () => {
    const events = (await client(keys.acme).fineTuning.jobs.listEvents(job.id, { limit: 100 })).data;
    expect(events.length).toBeGreaterThan(2);
    expect(events.map((e) => e.created_at)).toEqual([...events.map((e) => e.created_at)].sort((a, b) => b - a));
    expect(events[0]!.message).toMatch(/succeeded|completed|fine-tuned model/i);
  });

  it('classifies with the new model for its tenant: the file\'s labels, scores that sum to 1', async () => {
    for (const [path, body] of [['/v1/classify', { model, input: ['a gorgeous , witty , seductive movie .', 'a dull , lifeless mess .'] }], [`/models/${encodeURIComponent(model)}`, { inputs: 'a dull , lifeless mess .' }]] as const) {
      const res = await post(keys.acme, path, body);
      expect(res.status, path).toBe(200);
      const answer = await res.json() as { model?: string; results?: { label: string; score: number }[][] } | { label: string; score: number }[][];
      const results = Array.isArray(answer) ? answer : answer.results!;
      if (!Array.isArray(answer)) expect(answer.model).toBe(model);
      for (const scores of results) {
        expect(scores.map((s) => s.label).sort()).toEqual(['negative', 'positive']);
        expect(scores.reduce((sum, s) => sum + s.score, 0)).toBeCloseTo(1, 6);
      }
    }
  });

  it('is the tenant\'s alone: another tenant gets 404 for the model, the file and the job, and does not see it listed', async () => {
    const globex = client(keys.globex);
    for (const answer of [await post(keys.globex, '/v1/classify', { model, input: 'x' }), await post(keys.globex, `/models/${encodeURIComponent(model)}`, { inputs: 'x' })]) {
      expect(answer.status).toBe(404);
      expect(await answer.json()).toMatchObject({ error: { code: 'model_not_found' } });
    }
    expect(await statusOf(globex.models.retrieve(model))).toBe(404);
    expect(await statusOf(globex.models.delete(model))).toBe(404);
    expect(await statusOf(globex.files.retrieve(fileId))).toBe(404);
    expect(await statusOf(globex.fineTuning.jobs.retrieve(job.id))).toBe(404);
    const seen = async (openai: OpenAI) => (await openai.models.list()).data.map((m) => m.id);
    expect(await seen(globex)).not.toContain(model);
    expect(await seen(globex)).toContain(`${BASE}@1`);
    expect(await seen(client(keys.acme))).toContain(model);
    expect(await client(keys.acme).models.retrieve(model)).toMatchObject({ id: model, object: 'model', owned_by: 'acme', created: expect.any(Number) });
    // Its export (a transformers.js folder, zipped) too: the owner downloads it, another tenant gets 404.
    const exported = (key: string) => fetch(`${ctx.server.url}/v1/models/${encodeURIComponent(model)}/export`, { headers: { authorization: `Bearer ${key}` } });
    const zip = await exported(keys.acme);
    expect(zip.status).toBe(200);
    expect(new Uint8Array(await zip.arrayBuffer()).subarray(0, 2)).toEqual(new Uint8Array([0x50, 0x4b])); // "PK"
    expect((await exported(keys.globex)).status).toBe(404);
  });

  it('answers a model whose job has not succeeded with 409 and the job\'s status, and 404 once it was cancelled', async () => {
    const acme = client(keys.acme);
    // Queued behind nothing, it may start at once: the status is whatever it is when asked, never succeeded yet.
    const second = await acme.fineTuning.jobs.create({ model: BASE, training_file: fileId, suffix: 'again' });
    const name = `ft:${BASE}:acme:again:${second.id}`;
    const res = await post(keys.acme, '/v1/classify', { model: name, input: 'x' });
    expect(res.status).toBe(409);
    expect((await res.json() as { error: { code: string; message: string } }).error).toMatchObject({ code: 'model_not_ready', message: expect.stringMatching(/validating_files|queued|running/) });
    await acme.fineTuning.jobs.cancel(second.id);
    await until(second, acme, (j) => j.status === 'cancelled', 30_000);
    // Cancelled, its model will never exist: 404, saying how the job ended.
    const ended = await post(keys.acme, '/v1/classify', { model: name, input: 'x' });
    expect(ended.status).toBe(404);
    expect((await ended.json() as { error: { code: string; message: string } }).error).toMatchObject({ code: 'model_not_found', message: expect.stringContaining('ended cancelled') });
    // Another tenant learns nothing of the job from the name: the same 404 as any unknown model.
    expect((await post(keys.globex, '/v1/classify', { model: name, input: 'x' })).status).toBe(404);
  });

  it('refuses a job whose cost does not fit the key\'s budget with 402 at create', async () => {
    const broke = client(keys.acmeBroke);
    const error = await broke.fineTuning.jobs.create({ model: BASE, training_file: fileId }).then(() => null, (e: { status?: number; error?: { code?: string } }) => e);
    expect(error?.status).toBe(402);
    expect(error?.error?.code).toBe('budget_exhausted');
    // Nothing half-written: the tenant's jobs are the two made above.
    expect((await broke.fineTuning.jobs.list()).data).toHaveLength(2);
  });

  it('bills the training as one usage record: the trained tokens at the base model\'s price', async () => {
    await ctx.server.billing!.writer.flush();
    const [record] = sqliteRows(ctx.db.path, 'SELECT * FROM usage WHERE route = ?', `fine-tuning job ${job.id}`);
    expect(record).toMatchObject({ tenant_id: 'acme', model: BASE, model_version: '1', input_tokens: job.trained_tokens, status: 200 });
    expect(record!.cost_micro_usd).toBeGreaterThan(0);
    const usage = await (await fetch(`${ctx.server.url}/v1/usage?group_by=model`, { headers: { authorization: `Bearer ${keys.acme}` } })).json() as { data: { model: string; input_tokens: number }[] };
    expect(usage.data.find((row) => row.model === `${BASE}@1`)!.input_tokens).toBeGreaterThanOrEqual(job.trained_tokens!);
    // Its classifications are metered under the model's own name, at the base's price.
    expect(usage.data.find((row) => row.model === `${model}@1`)).toBeDefined();
  });

  it('deletes the model for its tenant: 404 from then on', async () => {
    const acme = client(keys.acme);
    expect(await acme.models.delete(model)).toEqual({ id: model, object: 'model', deleted: true });
    expect((await post(keys.acme, '/v1/classify', { model, input: 'x' })).status).toBe(404);
    expect(await statusOf(acme.models.retrieve(model))).toBe(404);
    expect((await acme.models.list()).data.map((m) => m.id)).not.toContain(model);
  });
});
