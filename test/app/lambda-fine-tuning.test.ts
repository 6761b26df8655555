/**
 * Fine-tuning on the AWS router end to end, in process: the Lambda handler with DynamoDB billing and the tuning
 * table (dynalite) and bucket (s3rver), API Gateway v2 events in and out. A tenant uploads an SST-2 file and
 * creates a job; the router only queues it and dispatches (captured here instead of Lambda's asynchronous invoke);
 * the runner's handler, run here on that queue, trains it with the real encoder; then the tenant classifies with
 * its model, and another tenant gets 404 for it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TextEmbedder } from '../../functions/engine/tasks/text-embedder.js';
import type { JobRecord } from '../../functions/tuning/tuning-types.js';
import { sst2Dir } from '../paths.js';
import { S3RVER_CREDENTIALS, startLocalAwsTuning, type LocalAwsTuning } from '../tuning/local-aws-tuning.js';
import { functionUrlEvent, lambdaContext, type BufferedResult } from './lambda-events.js';

const ADMIN_TOKEN = 'lambda-tuning-admin';
const BASE = 'electra-imdb-small';
let aws: LocalAwsTuning;
let handler: typeof import('../../functions/lambda/handler.js').handler;
let runner: typeof import('../../functions/lambda/tuning-runner.js').handler;
let continued = 0;
const dispatched: JobRecord[] = [];
const keys = {} as Record<'acme' | 'globex', string>;
const envNames: string[] = [];

const call = async (method: string, path: string, key: string, body?: unknown) => {
  const result = (await handler(functionUrlEvent(method, path, body === undefined ? undefined : JSON.stringify(body), {
    authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }),
  }), lambdaContext)) as BufferedResult;
  const text = result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString() : result.body;
  return { status: result.statusCode, json: (text ? JSON.parse(text) : null) as Record<string, any> };
};

/** A multipart upload as API Gateway hands it over: the bytes base64-encoded. */
async function upload(key: string, bytes: Uint8Array<ArrayBuffer>, filename: string) {
  const form = new FormData();
  form.append('purpose', 'fine-tune');
  form.append('file', new Blob([bytes]), filename);
  const request = new Request('http://x/', { method: 'POST', body: form });
  const body = Buffer.from(await request.arrayBuffer()).toString('base64');
  const event = { ...functionUrlEvent('POST', '/v1/files', body, { authorization: `Bearer ${key}`, 'content-type': request.headers.get('content-type')! }), isBase64Encoded: true };
  const result = (await handler(event, lambdaContext)) as BufferedResult;
  return { status: result.statusCode, json: JSON.parse(result.body) as Record<string, any> };
}

/** The same encoder, each embed() call held back by `ms` first. */
function slowEmbedder(embedder: TextEmbedder, ms: number): TextEmbedder {
  return {
    dimensions: embedder.dimensions,
    countTokens: (texts) => embedder.countTokens(texts),
    embed: async (texts, options) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return embedder.embed(texts, options);
    },
  };
}

async function sst2File(rows: number): Promise<Uint8Array<ArrayBuffer>> {
  const lines = (await readFile(join(sst2Dir, 'train.tsv'), 'utf8')).split('\n').slice(1, 1 + rows).map((line) => {
    const [text, label] = line.split('\t');
    return JSON.stringify({ text: text!.trim(), label: label!.trim() === '1' ? 'positive' : 'negative' });
  });
  return new TextEncoder().encode(`${lines.join('\n')}\n`);
}

beforeAll(async () => {
  aws = await startLocalAwsTuning();
  const env: Record<string, string> = {
    BILLING_TABLE: aws.dynamo.tables.billing, USAGE_TABLE: aws.dynamo.tables.usage, DYNAMODB_ENDPOINT: aws.dynamo.endpoint, ADMIN_TOKEN,
    TUNING_TABLE: aws.table, TUNING_BUCKET: aws.bucket, TUNING_BUCKET_PREFIX: 'files/', S3_ENDPOINT: aws.s3Endpoint,
    // s3rver knows one key pair; dynalite takes any, so both clients of the functions sign with it.
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
  };
  for (const [name, value] of Object.entries(env)) {
    if (process.env[name] === undefined) envNames.push(name);
    process.env[name] = value;
  }
  const app = await import('../../functions/lambda/lambda-app.js');
  app.overrideLambdaApp({ dispatch: async (job) => void dispatched.push(job) });
  ({ handler } = await import('../../functions/lambda/handler.js'));
  const runnerModule = await import('../../functions/lambda/tuning-runner.js');
  runner = runnerModule.handler;
  runnerModule.overrideContinuation(async () => void continued++);
  const admin = async (path: string, body: unknown) => (await call('POST', `/admin${path}`, ADMIN_TOKEN, body)).json;
  for (const tenant of ['acme', 'globex'] as const) {
    await admin('/tenants', { id: tenant });
    keys[tenant] = (await admin('/keys', { tenant })).key as string;
  }
}, 120_000);

afterAll(async () => {
  for (const name of envNames) delete process.env[name];
  await aws?.close();
});

describe('fine-tuning on the Lambda router and runner', () => {
  it('queues on the router, trains on the runner, serves the model to its tenant only', async () => {
    const file = await upload(keys.acme, await sst2File(300), 'sst2-300.jsonl');
    expect(file.status).toBe(200);
    expect(file.json).toMatchObject({ object: 'file', purpose: 'fine-tune', filename: 'sst2-300.jsonl' });
    expect((await call('GET', `/v1/files/${file.json.id}`, keys.globex)).status).toBe(404);

    const created = await call('POST', '/v1/fine_tuning/jobs', keys.acme, { model: BASE, training_file: file.json.id, suffix: 'sst2', seed: 42, hyperparameters: { n_epochs: 3 } });
    expect(created.status).toBe(200);
    expect(created.json.status).toBe('queued');
    expect(dispatched.map((j) => j.id)).toEqual([created.json.id]);
    // The router never trains: the job waits in DynamoDB for the runner.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await call('GET', `/v1/fine_tuning/jobs/${created.json.id}`, keys.acme)).json.status).toBe('queued');

    const outcome = await runner({ reason: 'job-queued', jobId: created.json.id }, { getRemainingTimeInMillis: () => 10 * 60_000 });
    expect(outcome).toEqual({ outcome: 'idle', ran: 1 });

    const job = (await call('GET', `/v1/fine_tuning/jobs/${created.json.id}`, keys.acme)).json;
    expect(job.status).toBe('succeeded');
    const model = job.fine_tuned_model as string;
    expect(model).toBe(`ft:${BASE}:acme:sst2:${job.id}`);
    const events = (await call('GET', `/v1/fine_tuning/jobs/${job.id}/events?limit=100`, keys.acme)).json.data as { message: string }[];
    expect(events.length).toBeGreaterThan(3);

    const classified = await call('POST', '/v1/classify', keys.acme, { model, input: ['a gorgeous , witty , seductive movie .', 'a dull , lifeless mess .'] });
    expect(classified.status).toBe(200);
    const top = (classified.json.results as { label: string; score: number }[][]).map((scores) => scores.reduce((a, b) => (b.score > a.score ? b : a)).label);
    expect(top).toEqual(['positive', 'negative']);
    expect((await call('GET', '/v1/models', keys.acme)).json.data.map((m: { id: string }) => m.id)).toContain(model);

    expect((await call('POST', '/v1/classify', keys.globex, { model, input: 'x' })).status).toBe(404);
    expect((await call('GET', '/v1/models', keys.globex)).json.data.map((m: { id: string }) => m.id)).not.toContain(model);
    expect((await call('GET', `/v1/fine_tuning/jobs/${job.id}`, keys.globex)).status).toBe(404);
  }, 300_000);

  it('re-queues the running job when its runner nears its time limit, and the next runner finishes it', async () => {
    const file = await upload(keys.globex, await sst2File(300), 'sst2-300.jsonl');
    const created = await call('POST', '/v1/fine_tuning/jobs', keys.globex, { model: BASE, training_file: file.json.id, seed: 42, hyperparameters: { n_epochs: 3 } });
    expect(created.status).toBe(200);
    const { RUNNER_MARGIN_MS, runnerDeps, setRunnerDeps } = await import('../../functions/lambda/tuning-runner.js');
    // 200 ms past the margin, with an encoder that takes 2 s to embed: the job starts, then goes back to the queue.
    // (A fast machine trains these 300 rows in under 200 ms, so the encoder is slowed rather than the clock trusted.)
    const deps = await runnerDeps();
    const slowed = new Map([...deps.embedders].map(([id, embedder]) => [id, slowEmbedder(embedder, 2_000)]));
    setRunnerDeps({ ...deps, embedders: slowed });
    let left = RUNNER_MARGIN_MS + 200;
    const start = Date.now();
    try {
      expect(await runner({}, { getRemainingTimeInMillis: () => left - (Date.now() - start) })).toEqual({ outcome: 'out_of_time', ran: 0 });
    } finally {
      setRunnerDeps(deps);
    }
    expect(continued).toBe(1);
    const requeued = (await call('GET', `/v1/fine_tuning/jobs/${created.json.id}`, keys.globex)).json;
    expect(requeued).toMatchObject({ status: 'queued', fine_tuned_model: null });
    const events = (await call('GET', `/v1/fine_tuning/jobs/${created.json.id}/events?limit=100`, keys.globex)).json.data as { level: string; message: string }[];
    expect(events[0]).toMatchObject({ level: 'warn' });

    left = 10 * 60_000;
    expect(await runner({ reason: 'continue' }, { getRemainingTimeInMillis: () => left })).toEqual({ outcome: 'idle', ran: 1 });
    expect((await call('GET', `/v1/fine_tuning/jobs/${created.json.id}`, keys.globex)).json.status).toBe('succeeded');
  }, 300_000);
});
