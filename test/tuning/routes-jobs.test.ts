// The fine-tuning jobs API through a real server with the official openai client, over the real job service,
// trainer and base encoder: create, retrieve, list, events, cancel, in OpenAI's shapes; every bad job request of
// issue 12 refused before anything is stored or reserved; another tenant's job answered as an unknown one.
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonl, sst2Lines, startTuningServer, type Tenant, type TuningServer } from './routes-server.js';

let server: TuningServer;
let trainingFile: string;
let finished: OpenAI.FineTuning.FineTuningJob;
beforeAll(async () => {
  server = await startTuningServer();
  trainingFile = (await client('acme').files.create({ file: await toFile(jsonl(await sst2Lines(60)), 'train.jsonl'), purpose: 'fine-tune' })).id;
  const job = await client('acme').fineTuning.jobs.create({ model: 'electra-imdb-small', training_file: trainingFile, suffix: 'sst', seed: 7, hyperparameters: { n_epochs: 2 } });
  await server.service.idle();
  finished = await client('acme').fineTuning.jobs.retrieve(job.id);
}, 120_000);
afterAll(async () => server?.close());

const client = (tenant: Tenant) => new OpenAI({ apiKey: server.keys[tenant], baseURL: `${server.url}/v1`, maxRetries: 0 });

async function refusal(call: () => Promise<unknown>): Promise<{ status: number; code: string; param: string | null; message: string }> {
  try {
    await call();
  } catch (error) {
    if (!(error instanceof OpenAI.APIError)) throw error;
    const body = error.error as { code: string; param: string | null; message: string };
    return { status: error.status!, code: body.code, param: body.param, message: body.message };
  }
  throw new Error('the call succeeded');
}

const postJob = async (body: unknown, tenant: Tenant = 'acme') => {
  const res = await fetch(`${server.url}/v1/fine_tuning/jobs`, {
    method: 'POST', headers: { authorization: `Bearer ${server.keys[tenant]}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { error: { code: string; param: string | null; message: string } } };
};

describe('a job with the official openai client', () => {
  it("is answered in OpenAI's shape, queued at creation and succeeded with its model and result", async () => {
    expect(finished).toEqual({
      id: expect.stringMatching(/^ftjob-[0-9a-z]{24}$/), object: 'fine_tuning.job', created_at: expect.any(Number), error: null,
      fine_tuned_model: `ft:electra-imdb-small:acme:sst:${finished.id}`, finished_at: expect.any(Number),
      hyperparameters: { n_epochs: 2, batch_size: expect.any(Number), learning_rate_multiplier: 1 },
      model: 'electra-imdb-small@1', organization_id: 'acme', result_files: [expect.stringMatching(/^file-/)], seed: 7, status: 'succeeded',
      trained_tokens: expect.any(Number), training_file: trainingFile, validation_file: null, estimated_finish: null, integrations: null, metadata: null,
      method: { type: 'supervised', supervised: { hyperparameters: finished.hyperparameters } },
      result: {
        labels: expect.arrayContaining(['negative', 'positive']), train_rows: expect.any(Number), holdout_rows: expect.any(Number), holdout_accuracy: expect.any(Number),
        per_label: expect.arrayContaining([expect.objectContaining({ label: 'positive', precision: expect.any(Number), recall: expect.any(Number), support: expect.any(Number) })]),
        majority_baseline: { label: expect.any(String), accuracy: expect.any(Number) }, below_majority_baseline: expect.any(Boolean), trained_tokens: finished.trained_tokens, epochs: 2, steps: expect.any(Number),
        feature_ms: expect.any(Number), training_ms: expect.any(Number),
      },
    });
    expect(finished.trained_tokens).toBeGreaterThan(0);
    const result = (finished as unknown as { result: { train_rows: number; holdout_rows: number } }).result;
    expect(result.train_rows + result.holdout_rows).toBe(60);
  });

  it('creates a queued job, and its result file reads back as JSON', async () => {
    const created = await client('acme').fineTuning.jobs.create({ model: 'encoder', training_file: trainingFile, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 1, batch_size: 8 } } } });
    expect(['queued', 'running']).toContain(created.status);
    expect(created).toMatchObject({ fine_tuned_model: null, finished_at: null, result_files: [], hyperparameters: { n_epochs: 1, batch_size: 8 }, error: null });
    expect(created.seed).toEqual(expect.any(Number));
    await server.service.idle();
    const content = await client('acme').files.content(finished.result_files[0]!);
    expect(content.headers.get('content-type')).toBe('application/json');
    expect(await content.json()).toMatchObject({ holdout_accuracy: expect.any(Number) });
  });

  it('lists jobs newest first and pages them with has_more and after', async () => {
    const ids: string[] = [];
    for await (const job of client('acme').fineTuning.jobs.list({ limit: 1 })) ids.push(job.id);
    expect(ids).toContain(finished.id);
    expect(new Set(ids).size).toBe(ids.length);
    const first = await client('acme').fineTuning.jobs.list({ limit: 1 });
    expect(first.data).toHaveLength(1);
    expect(first.has_more).toBe(true);
    expect((await client('globex').fineTuning.jobs.list()).data).toEqual([]);
  });

  it('lists events newest first, in OpenAI\'s shape, with progress metrics and pages', async () => {
    const events: OpenAI.FineTuning.FineTuningJobEvent[] = [];
    for await (const event of client('acme').fineTuning.jobs.listEvents(finished.id, { limit: 3 })) events.push(event);
    expect(events[0]).toEqual({ id: expect.stringMatching(/^ftevent-/), object: 'fine_tuning.job.event', created_at: expect.any(Number), level: 'info', message: 'The job has successfully completed', data: null, type: 'message' });
    expect(events.at(-1)!.message).toBe('Validating training file');
    const metrics = events.filter((e) => e.type === 'metrics');
    expect(metrics.some((e) => (e.data as { holdout_accuracy?: number }).holdout_accuracy !== undefined)).toBe(true);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('refuses to cancel a finished job (409), and cancels a queued or running one', async () => {
    expect(await refusal(() => client('acme').fineTuning.jobs.cancel(finished.id))).toMatchObject({ status: 409, code: 'job_finished' });
    const [a, b] = [
      await client('acme').fineTuning.jobs.create({ model: 'electra-imdb-small', training_file: trainingFile }),
      await client('acme').fineTuning.jobs.create({ model: 'electra-imdb-small', training_file: trainingFile }),
    ];
    const cancelled = await client('acme').fineTuning.jobs.cancel(b.id);
    expect(cancelled).toMatchObject({ id: b.id, status: 'cancelled', fine_tuned_model: null, finished_at: expect.any(Number) });
    expect(await refusal(() => client('acme').fineTuning.jobs.cancel(b.id))).toMatchObject({ status: 409, code: 'job_finished' });
    await server.service.idle();
    expect((await client('acme').fineTuning.jobs.retrieve(a.id)).status).toBe('succeeded');
  }, 60_000);

  it("answers another tenant's job exactly as an unknown one, on every route", async () => {
    const unknown = `ftjob-${'0'.repeat(24)}`;
    const globex = client('globex');
    const calls = [
      (id: string) => globex.fineTuning.jobs.retrieve(id),
      (id: string) => globex.fineTuning.jobs.cancel(id),
      (id: string) => globex.fineTuning.jobs.listEvents(id),
    ];
    for (const call of calls) {
      const theirs = await refusal(() => call(finished.id));
      const none = await refusal(() => call(unknown));
      expect(theirs).toMatchObject({ status: 404, code: 'job_not_found' });
      expect({ ...theirs, message: theirs.message.replace(finished.id, 'ID') }).toEqual({ ...none, message: none.message.replace(unknown, 'ID') });
    }
    const stream = await fetch(`${server.url}/v1/fine_tuning/jobs/${finished.id}/events?stream=true`, { headers: { authorization: `Bearer ${server.keys.globex}` } });
    expect([stream.status, stream.headers.get('content-type')]).toEqual([404, 'application/json']);
    await stream.body?.cancel();
  });
});

describe('bad job requests', () => {
  const valid = () => ({ model: 'electra-imdb-small', training_file: trainingFile });
  const cases: [string, () => Record<string, unknown>, { status: number; code: string; param: string | null }][] = [
    ['an unknown base model', () => ({ ...valid(), model: 'no-such-model' }), { status: 404, code: 'model_not_found', param: 'model' }],
    ['a model that cannot be fine-tuned', () => ({ ...valid(), model: 'sentiment' }), { status: 400, code: 'model_not_fine_tunable', param: 'model' }],
    ['n_epochs 0', () => ({ ...valid(), hyperparameters: { n_epochs: 0 } }), { status: 400, code: 'invalid_request', param: 'hyperparameters.n_epochs' }],
    ['n_epochs 51', () => ({ ...valid(), hyperparameters: { n_epochs: 51 } }), { status: 400, code: 'invalid_request', param: 'hyperparameters.n_epochs' }],
    ['a fractional batch_size', () => ({ ...valid(), hyperparameters: { batch_size: 2.5 } }), { status: 400, code: 'invalid_request', param: 'hyperparameters.batch_size' }],
    ['batch_size 257', () => ({ ...valid(), hyperparameters: { batch_size: 257 } }), { status: 400, code: 'invalid_request', param: 'hyperparameters.batch_size' }],
    ['learning_rate_multiplier 0', () => ({ ...valid(), hyperparameters: { learning_rate_multiplier: 0 } }), { status: 400, code: 'invalid_request', param: 'hyperparameters.learning_rate_multiplier' }],
    ['a hyperparameter that is a word', () => ({ ...valid(), hyperparameters: { n_epochs: 'many' } }), { status: 400, code: 'invalid_request', param: 'hyperparameters.n_epochs' }],
    ['an unknown hyperparameter', () => ({ ...valid(), hyperparameters: { beta: 1 } }), { status: 400, code: 'invalid_request', param: 'hyperparameters' }],
    ['hyperparameters in two places', () => ({ ...valid(), hyperparameters: { n_epochs: 2 }, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3 } } } }), { status: 400, code: 'invalid_request', param: 'hyperparameters' }],
    ['another method', () => ({ ...valid(), method: { type: 'dpo' } }), { status: 400, code: 'invalid_request', param: 'method.type' }],
    ['no training file', () => ({ model: 'electra-imdb-small' }), { status: 400, code: 'invalid_request', param: 'training_file' }],
    ['an unknown training file', () => ({ ...valid(), training_file: `file-${'0'.repeat(24)}` }), { status: 404, code: 'file_not_found', param: 'training_file' }],
    ['an unknown validation file', () => ({ ...valid(), validation_file: `file-${'1'.repeat(24)}` }), { status: 404, code: 'file_not_found', param: 'validation_file' }],
    ['a suffix with spaces', () => ({ ...valid(), suffix: 'my model' }), { status: 400, code: 'invalid_suffix', param: 'suffix' }],
    ['a negative seed', () => ({ ...valid(), seed: -1 }), { status: 400, code: 'invalid_seed', param: 'seed' }],
    ['metadata', () => ({ ...valid(), metadata: { team: 'x' } }), { status: 400, code: 'invalid_request', param: 'metadata' }],
    ['integrations', () => ({ ...valid(), integrations: [{ type: 'wandb', wandb: { project: 'p' } }] }), { status: 400, code: 'invalid_request', param: 'integrations' }],
  ];

  it.each(cases)('refuses %s, storing and reserving nothing', async (_, body, expected) => {
    const jobsBefore = (await server.store.listJobs('acme', { limit: 1000 })).length;
    const reservedBefore = server.meter.reserved.length;
    const answer = await postJob(body());
    expect({ status: answer.status, code: answer.body.error.code, param: answer.body.error.param }).toEqual(expected);
    expect(answer.body.error.message.length).toBeGreaterThan(0);
    expect((await server.store.listJobs('acme', { limit: 1000 })).length).toBe(jobsBefore);
    expect(server.meter.reserved.length).toBe(reservedBefore);
  });

  it('names an unknown hyperparameter instead of calling the object malformed', async () => {
    const answer = await postJob({ ...valid(), hyperparameters: { n_epochs: 1, dropout: 0.5 } });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/has no "dropout": the hyperparameters are n_epochs, batch_size and learning_rate_multiplier/);
  });

  it("refuses another tenant's training file as an unknown one", async () => {
    const answer = await postJob({ model: 'electra-imdb-small', training_file: trainingFile }, 'globex');
    expect(answer).toMatchObject({ status: 404, body: { error: { code: 'file_not_found', param: 'training_file' } } });
  });

  it('refuses a body that is not JSON, and events or cancel of an unknown job', async () => {
    const res = await fetch(`${server.url}/v1/fine_tuning/jobs`, { method: 'POST', headers: { authorization: `Bearer ${server.keys.acme}`, 'content-type': 'application/json' }, body: '{"model":' });
    expect([res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([400, 'invalid_json']);
    expect(await refusal(() => client('acme').fineTuning.jobs.listEvents('ftjob-unknown'))).toMatchObject({ status: 404, code: 'job_not_found' });
    expect(await refusal(() => client('acme').fineTuning.jobs.cancel('ftjob-unknown'))).toMatchObject({ status: 404, code: 'job_not_found' });
    const badLimit = await fetch(`${server.url}/v1/fine_tuning/jobs?limit=0`, { headers: { authorization: `Bearer ${server.keys.acme}` } });
    expect(badLimit.status).toBe(400);
  });

  it('bills job requests at nothing themselves (the training is billed by its own record)', async () => {
    const rows = (await server.usage()).filter((r) => r.route.startsWith('POST /v1/fine_tuning/jobs'));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.cost_micro_usd === 0 && r.model === null)).toBe(true);
  });
});
