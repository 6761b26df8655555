// A job's events as server-sent events through a real server: past events oldest first then live ones, ids = seq,
// Last-Event-ID resumes, `event: done` ends the stream with the finished job, heartbeats, events written by another
// process (straight into the store) arrive by polling, and a client that goes away leaves no subscription behind.
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FineTuningService } from '../../functions/tuning/jobs/fine-tuning-service.js';
import { newEventId, newJobId } from '../../functions/tuning/ids.js';
import type { JobRecord } from '../../functions/tuning/tuning-types.js';
import { jsonl, sst2Lines, startTuningServer, type TuningServer } from './routes-server.js';

/** Subscriptions the routes hold on the service right now: a stream that ended must have dropped its own. */
let subscribed = 0;
const counted = (service: FineTuningService) => Object.assign(Object.create(service) as FineTuningService, {
  subscribe: (jobId: string, listener: Parameters<FineTuningService['subscribe']>[1]) => {
    subscribed++;
    const unsubscribe = service.subscribe(jobId, listener);
    return () => {
      subscribed--;
      unsubscribe();
    };
  },
});

let server: TuningServer;
let trainingFile: string;
beforeAll(async () => {
  server = await startTuningServer({ events: { heartbeatMs: 50, pollMs: 100 }, routesSee: counted });
  trainingFile = (await openai().files.create({ file: await toFile(jsonl(await sst2Lines(60)), 'train.jsonl'), purpose: 'fine-tune' })).id;
}, 60_000);
afterAll(async () => server?.close());

const openai = () => new OpenAI({ apiKey: server.keys.acme, baseURL: `${server.url}/v1`, maxRetries: 0 });

interface Frame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** Reads a stream's frames until it ends, or until `stopAt` says so (then the client goes away). */
async function readFrames(path: string, headers: Record<string, string> = {}, stopAt?: (frame: Frame) => boolean): Promise<{ frames: Frame[]; contentType: string | null; ended: boolean }> {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${server.keys.acme}`, ...headers } });
  expect(res.status).toBe(200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const frames: Frame[] = [];
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { frames, contentType: res.headers.get('content-type'), ended: true };
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame: Frame = {};
      for (const line of buffer.slice(0, end).split('\n')) {
        if (line.startsWith(':')) frame.comment = line.slice(1).trim();
        else {
          const at = line.indexOf(': ');
          (frame as Record<string, string>)[line.slice(0, at)] = line.slice(at + 2);
        }
      }
      buffer = buffer.slice(end + 2);
      frames.push(frame);
      if (stopAt?.(frame)) {
        await reader.cancel();
        return { frames, contentType: res.headers.get('content-type'), ended: false };
      }
    }
  }
}

const dataOf = (frames: Frame[]) => frames.filter((f) => f.id !== undefined).map((f) => JSON.parse(f.data!) as { message: string; object: string });

const eventually = async (check: () => boolean, ms = 5_000) => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('GET /v1/fine_tuning/jobs/{id}/events as server-sent events', () => {
  let jobId: string;
  let all: Frame[];

  it('sends the past events oldest first, then live ones with id = seq, heartbeats, then done with the finished job', async () => {
    jobId = (await openai().fineTuning.jobs.create({ model: 'electra-imdb-small', training_file: trainingFile, hyperparameters: { n_epochs: 2 } })).id;
    const { frames, contentType, ended } = await readFrames(`/v1/fine_tuning/jobs/${jobId}/events`, { accept: 'text/event-stream' });
    all = frames;
    expect(contentType).toMatch(/^text\/event-stream/);
    expect(ended).toBe(true);
    const ids = frames.filter((f) => f.id !== undefined).map((f) => Number(f.id));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    const messages = dataOf(frames).map((e) => e.message);
    expect(messages.slice(0, 3)).toEqual(['Validating training file', 'Files validated, moving job to queued state', 'Fine-tuning job started']);
    expect(messages.at(-1)).toBe('The job has successfully completed');
    expect(dataOf(frames).every((e) => e.object === 'fine_tuning.job.event')).toBe(true);
    // Every event the store holds, each once.
    expect(ids.at(-1)).toBe((await server.store.eventsAfter(jobId, 0)).length);
    expect(frames.some((f) => f.comment === 'keep-alive')).toBe(true);
    const done = frames.at(-1)!;
    expect(done.event).toBe('done');
    expect(JSON.parse(done.data!)).toMatchObject({ id: jobId, object: 'fine_tuning.job', status: 'succeeded', fine_tuned_model: expect.stringMatching(/^ft:/) });
    await eventually(() => subscribed === 0);
  }, 60_000);

  it('resumes after Last-Event-ID, and ends at once for a finished job (?stream=true without Accept)', async () => {
    const { frames, ended } = await readFrames(`/v1/fine_tuning/jobs/${jobId}/events?stream=true`, { 'last-event-id': '3' });
    expect(ended).toBe(true);
    const expected = all.filter((f) => f.id !== undefined && Number(f.id) > 3).map((f) => f.data);
    expect(frames.filter((f) => f.id !== undefined).map((f) => f.data)).toEqual(expected);
    expect(frames.at(-1)!.event).toBe('done');
    // Accept alone asks for the stream; stream=false keeps the list.
    const list = await fetch(`${server.url}/v1/fine_tuning/jobs/${jobId}/events?stream=false`, { headers: { authorization: `Bearer ${server.keys.acme}`, accept: 'text/event-stream' } });
    expect(list.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await list.json()) as { object: string }).object).toBe('list');
  });

  it.each(['garbage', '-1', '1e3', '9'.repeat(40)])('refuses Last-Event-ID %s with a 400 naming the header, instead of replaying from the start', async (value) => {
    const res = await fetch(`${server.url}/v1/fine_tuning/jobs/${jobId}/events?stream=true`, { headers: { authorization: `Bearer ${server.keys.acme}`, 'last-event-id': value } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('Last-Event-ID');
  });
});

describe('a job another process runs (its records written straight into the store)', () => {
  const elsewhere = async (): Promise<JobRecord> => {
    const job: JobRecord = {
      id: newJobId(), tenantId: 'acme', keyId: null, model: 'electra-imdb-small@1', trainingFile, validationFile: null,
      hyperparameters: { nEpochs: 1, batchSize: 8, learningRateMultiplier: 1 }, suffix: null, seed: 1, status: 'running', createdAt: Math.floor(Date.now() / 1000),
      startedAt: Math.floor(Date.now() / 1000), finishedAt: null, estimatedFinish: null, error: null, fineTunedModel: null, trainedTokens: null, result: null,
      resultFiles: [], attempts: 1, usageId: crypto.randomUUID(),
    };
    await server.store.insertJob(job);
    return job;
  };
  const addEvent = (jobId: string, message: string) =>
    server.store.addEvent({ id: newEventId(), jobId, createdAt: Math.floor(Date.now() / 1000), level: 'info', type: 'message', message, data: null });

  it('streams its events as the store gets them, and its last one written after its finished status', async () => {
    const job = await elsewhere();
    await addEvent(job.id, 'Fine-tuning job started');
    const reading = readFrames(`/v1/fine_tuning/jobs/${job.id}/events?stream=true`);
    await new Promise((r) => setTimeout(r, 250));
    await addEvent(job.id, 'Step 1/2');
    await new Promise((r) => setTimeout(r, 250));
    // As the job service does: the status first, then the last event.
    await server.store.updateJob(job.id, ['running'], { status: 'failed', finishedAt: Math.floor(Date.now() / 1000), error: { code: 'training_failed', message: 'x', param: null } });
    await new Promise((r) => setTimeout(r, 150));
    await addEvent(job.id, 'Fine-tuning job failed: x');
    const { frames, ended } = await reading;
    expect(ended).toBe(true);
    expect(dataOf(frames).map((e) => e.message)).toEqual(['Fine-tuning job started', 'Step 1/2', 'Fine-tuning job failed: x']);
    expect(JSON.parse(frames.at(-1)!.data!)).toMatchObject({ status: 'failed', error: { code: 'training_failed' } });
  }, 20_000);

  it('drops its subscription and timers when the client goes away', async () => {
    const job = await elsewhere();
    await addEvent(job.id, 'Fine-tuning job started');
    let during = 0;
    const { frames, ended } = await readFrames(`/v1/fine_tuning/jobs/${job.id}/events?stream=true`, {}, (f) => {
      during = subscribed;
      return f.comment === 'keep-alive';
    });
    expect(ended).toBe(false);
    expect(during).toBe(1);
    expect(dataOf(frames).map((e) => e.message)).toEqual(['Fine-tuning job started']);
    await eventually(() => subscribed === 0);
  }, 20_000);
});
