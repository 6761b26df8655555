// Overload over HTTP: `npm start`'s server (native onnxruntime, and ORT_BACKEND=wasm), bursts far past what it can
// serve within its queue deadline: one model, and split between two models that share the process's CPU cores.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../../bench/common/processes.js';

const DEADLINE_MS = 1_000;
// Long texts (about 100 tokens each), so that a batch costs enough on a fast machine too: the burst is sized from
// the measured batch times, and fewer, heavier requests keep it under the listen backlog.
const filler = ' the film goes on and on ,'.repeat(15);
const texts = Array.from({ length: 64 }, (_, i) => (i % 2 ? `a dull , lifeless mess${filler} take ${i} .` : `a wonderful , heartfelt film${filler} take ${i} .`));
/** Work in the burst, in deadlines' worth of batches run alone: far past what the deadline admits, on any machine. */
const OVERLOAD = 8;
const MIN_REQUESTS = 40;
const MAX_REQUESTS = 400;
type Ranked = { label: string; score: number }[];
interface Answer { model: string; status: number; ms: number; retryAfter: string | undefined; body: { results: Ranked[]; error?: unknown }; inferenceMs: number }

/** One POST on a connection of its own, opened at once, as from many clients (fetch's pool paces its connects). */
const classify = (server: ServerProcess, model: string) => new Promise<Answer>((resolve, reject) => {
  const started = performance.now();
  const req = request(`${server.url}/v1/classify`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('end', () => {
      const inference = /inference;dur=([\d.]+)/.exec(String(res.headers['server-timing'] ?? ''))?.[1];
      resolve({ model, status: res.statusCode!, ms: performance.now() - started, retryAfter: res.headers['retry-after'], body: JSON.parse(text), inferenceMs: Number(inference ?? 0) });
    });
  });
  req.on('error', reject);
  req.end(JSON.stringify({ model, input: texts }));
});

/**
 * Each model alone (its second answer: the reference, and one batch's time), then a burst of requests taking the
 * models in turn, sized to OVERLOAD deadlines of their batch times; checks what every burst must show.
 */
async function burstOf(server: ServerProcess, models: string[]) {
  const alone = new Map<string, Answer>();
  for (const model of models) {
    await classify(server, model);
    const answer = await classify(server, model);
    expect(answer.status).toBe(200);
    alone.set(model, answer);
  }
  const meanBatchMs = [...alone.values()].reduce((sum, a) => sum + a.inferenceMs, 0) / models.length;
  const requests = Math.min(MAX_REQUESTS, Math.max(MIN_REQUESTS, Math.ceil((OVERLOAD * DEADLINE_MS) / meanBatchMs)));
  const answers = await Promise.all(Array.from({ length: requests }, (_, i) => classify(server, models[i % models.length]!)));
  const served = answers.filter((a) => a.status === 200);
  const shed = answers.filter((a) => a.status === 503);
  expect(served.length + shed.length).toBe(requests);
  expect(served.length).toBeGreaterThan(0);
  expect(shed.length).toBeGreaterThan(requests / 2);
  for (const answer of shed) {
    expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(answer.body).toEqual({ error: { message: expect.stringMatching(/overloaded/), type: 'server_error', code: 'overloaded', param: null } });
  }
  for (const answer of served) {
    const reference = alone.get(answer.model)!.body.results;
    expect(answer.body.results.map((r) => r[0]!.label)).toEqual(reference.map((r) => r[0]!.label));
    answer.body.results.forEach((r, i) => expect(r[0]!.score).toBeCloseTo(reference[i]![0]!.score, 4));
  }
  // Bounds in batch times measured in this run (alone, and under the burst's load), so that they hold for fast and
  // slow models alike. An answer takes the time until its request was read, then at most the deadline, its own
  // batch and the turns that read arrivals between two batches; every request had been read by the time the last
  // refusal went out (a refusal is answered as soon as its request is read), and 1 s covers writing answers on a
  // loaded machine. Without one deadline over every model, or with a loop that a WASM batch blocks, the last
  // answers waited for much of the burst: the second bound is half of it run alone.
  const batchMs = Math.max(...[...alone.values(), ...served].map((a) => a.inferenceMs));
  const slowest = Math.max(...answers.map((a) => a.ms));
  const readMs = Math.max(...shed.map((a) => a.ms));
  expect(slowest).toBeLessThan(readMs + DEADLINE_MS + 4 * batchMs + 1_000);
  expect(slowest).toBeLessThan((requests * meanBatchMs) / 2);
  // And it recovers: once the burst is over, every model is served again.
  for (const model of models) expect((await classify(server, model)).status).toBe(200);
  return { served, shed };
}

describe('native onnxruntime: bursts of 64-text requests far past the queue deadline', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess('functions/node/server.ts', { CLASSIFY_MAX_QUEUE_MS: String(DEADLINE_MS) });
  });
  afterAll(() => server.stop());

  it('one model: sheds the excess at once with 503 and Retry-After, answers everyone, and serves the rest correctly', async () => {
    await burstOf(server, ['sentiment-transformer']);
  }, 120_000);

  it('two models sharing the cores: one deadline over both, and both are served', async () => {
    const { served } = await burstOf(server, ['sentiment', 'sentiment-transformer']);
    expect(new Set(served.map((a) => a.model))).toEqual(new Set(['sentiment', 'sentiment-transformer']));
  }, 120_000);
});

describe('ORT_BACKEND=wasm: a burst split between two models', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess('functions/node/server.ts', { CLASSIFY_MAX_QUEUE_MS: String(DEADLINE_MS), ORT_BACKEND: 'wasm' });
  });
  afterAll(() => server.stop());

  it('reads the burst while batches run and sheds it as native does, serving the rest correctly', async () => {
    await burstOf(server, ['sentiment', 'sentiment-transformer']);
  }, 180_000);
});
