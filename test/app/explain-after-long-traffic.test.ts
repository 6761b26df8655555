// The queue deadline after traffic of long texts, over HTTP on the real Node server and default model: an explained
// request (hundreds of short occlusion variants) on an idle server is priced by what its texts cost, not by how
// many they are, so it is served; a backlog of long texts far past the deadline is still refused with 503.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLabelledTsv } from '../../models/tools/labelled-tsv.js';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';
import { devTsv } from '../paths.js';

interface Answer { status: number; ms: number; retryAfter: string | undefined; body: { results?: unknown[]; error?: { code: string } } }

let server: RunningServer;
/** A text of 200 words: the model reads its first 128 tokens. */
let longText: string;
/** 16 sentences of 22 to 28 words: as many words as an explained request may hold, in short texts. */
let shortTexts: string[];

beforeAll(async () => {
  const dev = (await readLabelledTsv(devTsv)).map((r) => r.text);
  longText = dev.join(' ').split(' ').slice(0, 200).join(' ');
  shortTexts = dev.filter((t) => { const words = t.split(' ').length; return words >= 22 && words <= 28; }).slice(0, 16);
  server = await startServer({ port: 0, generation: false, fineTuning: false });
}, 120_000);
afterAll(() => server?.close());

/** One POST on a connection of its own (fetch's pool would pace a burst's connects). */
const classify = (body: unknown) => new Promise<Answer>((resolve, reject) => {
  const started = performance.now();
  const req = request(`${server.url}/v1/classify`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('end', () => resolve({ status: res.statusCode!, ms: performance.now() - started, retryAfter: res.headers['retry-after'], body: JSON.parse(text) }));
  });
  req.on('error', reject);
  req.end(JSON.stringify(body));
});

/**
 * A burst of `count` concurrent requests from another process: this one's event loop is the server's, and a client
 * here could not send while a batch blocks it (the server would see one request at a time, never a backlog).
 */
const BURST_CLIENT = `
const [url, body, count] = process.argv.slice(1);
const one = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body })
  .then(async (res) => ({ status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() }));
Promise.all(Array.from({ length: Number(count) }, one)).then((answers) => console.log(JSON.stringify(answers)));
`;
async function burstFromAnotherProcess(body: unknown, count: number) {
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', BURST_CLIENT, `${server.url}/v1/classify`, JSON.stringify(body), String(count)], { maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as { status: number; retryAfter: string | null; body: Answer['body'] }[];
}

describe('the queue deadline after traffic of long texts', () => {
  it('serves an explained request of many short variants on an idle server, and still sheds a long backlog', async () => {
    expect(shortTexts).toHaveLength(16);
    const long = { input: Array.from({ length: 64 }, () => longText) };
    let longMs = 0;
    for (let i = 0; i < 5; i++) {
      const answer = await classify(long);
      expect(answer.status).toBe(200);
      longMs = answer.ms;
    }
    await new Promise((r) => setTimeout(r, 200));

    const explained = await classify({ input: shortTexts, explain: true });
    expect(explained.body.error).toBeUndefined();
    expect(explained.status).toBe(200);
    expect(explained.body.results).toHaveLength(16);

    // A burst of long requests worth at least three times the 3 s deadline, on this machine's measured speed.
    const burst = Math.min(80, Math.max(8, Math.ceil((3 * 3_000) / longMs)));
    const answers = await burstFromAnotherProcess(long, burst);
    const shed = answers.filter((a) => a.status === 503);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThan(0);
    expect(shed.length).toBeGreaterThan(0);
    for (const answer of shed) {
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(answer.body.error?.code).toBe('overloaded');
    }
  }, 180_000);
});
