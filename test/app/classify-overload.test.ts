// Overload over HTTP: `npm start`'s server, a burst far past what it can serve within its queue deadline.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../../bench/common/processes.js';

const DEADLINE_MS = 2_000;
const REQUESTS = 200;
// The transformer, not the default BiLSTM: 200 batches of the BiLSTM fit in the deadline on a fast machine, so a burst
// of them would not overload it and the test would say nothing about shedding.
const MODEL = 'sentiment-transformer';
const texts = Array.from({ length: 64 }, (_, i) => (i % 2 ? `a dull , lifeless mess , take ${i} .` : `a wonderful , heartfelt film , take ${i} .`));
type Ranked = { label: string; score: number }[];
interface Answer { status: number; ms: number; retryAfter: string | undefined; body: { results: Ranked[]; error?: unknown }; inferenceMs: number }

let server: ServerProcess;
beforeAll(async () => {
  server = await startServerProcess('functions/node/server.ts', { CLASSIFY_MAX_QUEUE_MS: String(DEADLINE_MS) });
});
afterAll(() => server.stop());

/** One POST on a connection of its own, opened at once, as from many clients (fetch's pool paces its connects). */
const classify = () => new Promise<Answer>((resolve, reject) => {
  const started = performance.now();
  const req = request(`${server.url}/v1/classify`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('end', () => {
      const inference = /inference;dur=([\d.]+)/.exec(String(res.headers['server-timing'] ?? ''))?.[1];
      resolve({ status: res.statusCode!, ms: performance.now() - started, retryAfter: res.headers['retry-after'], body: JSON.parse(text), inferenceMs: Number(inference ?? 0) });
    });
  });
  req.on('error', reject);
  req.end(JSON.stringify({ model: MODEL, input: texts }));
});

describe('a burst of 64-text requests far past the queue deadline', () => {
  it('sheds the excess at once with 503 and Retry-After, answers everyone, and serves the rest correctly', async () => {
    const alone = await classify();
    expect(alone.status).toBe(200);
    // 200 requests of 64 texts: many times what one process classifies within the deadline, on any machine.
    const answers = await Promise.all(Array.from({ length: REQUESTS }, () => classify()));
    const served = answers.filter((a) => a.status === 200);
    const shed = answers.filter((a) => a.status === 503);
    expect(served.length + shed.length).toBe(REQUESTS);
    expect(served.length).toBeGreaterThan(0);
    expect(shed.length).toBeGreaterThan(REQUESTS / 2);
    for (const answer of shed) {
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(answer.body).toEqual({ error: { message: expect.stringMatching(/overloaded/), type: 'server_error', code: 'overloaded', param: null } });
    }
    for (const answer of served) {
      expect(answer.body.results.map((r) => r[0]!.label)).toEqual(alone.body.results.map((r) => r[0]!.label));
      answer.body.results.forEach((r, i) => expect(r[0]!.score).toBeCloseTo(alone.body.results[i]![0]!.score, 4));
    }
    // The server reads arrivals between two batches, so an answer can take the deadline plus a few batch times;
    // without the deadline the last of these waited for all 200 batches, and none was refused.
    const batchMs = Math.max(alone.inferenceMs, ...served.map((a) => a.inferenceMs));
    const slowest = Math.max(...answers.map((a) => a.ms));
    expect(slowest).toBeLessThan(DEADLINE_MS + 4 * batchMs + 3_000);
    expect(slowest).toBeLessThan((REQUESTS / 4) * batchMs);
    // And it recovers: once the burst is over, a request is served again.
    expect((await classify()).status).toBe(200);
  }, 120_000);
});
