// Issue 17, defect 1: one long prompt froze the generation server (a quadratic BPE on the event loop, before any
// length check). The server runs in its own process here, so a frozen server shows as unanswered requests.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../paths.js';

let child: ChildProcess;
let url: string;

beforeAll(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'functions/node/generation-server.ts'], { cwd: repoRoot, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(seen);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the generation server exited with ${code}`)));
  });
});
// SIGKILL: a server stuck in a synchronous loop never handles SIGTERM.
afterAll(() => void child?.kill('SIGKILL'));

/** Well under what the old tokenizer took (minutes at 100,000 characters): a loose guard, not a measurement. */
const BOUND_MS = 10_000;

const post = (path: string, body: unknown) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(BOUND_MS) });

/** Sends `request` and keeps asking GET /health while it is open; every /health must be answered. */
async function whileHealthy(request: () => Promise<Response>) {
  let open = true;
  let answered = 0;
  const probes = (async () => {
    while (open) {
      const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(BOUND_MS) });
      expect(health.status).toBe(200);
      answered++;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const response = await request().finally(() => (open = false));
  await probes;
  return { response, body: (await response.json()) as { error: { code: string; param: string | null; message: string } }, answered };
}

describe('the generation server under long prompts', () => {
  it('answers a 100,000-character prompt 400 context_length_exceeded at once, and /health meanwhile', async () => {
    const { response, body } = await whileHealthy(() => post('/v1/completions', { model: 'stories260K', prompt: 'Once upon a time there was a cat. '.repeat(3_000).slice(0, 100_000), max_tokens: 10 }));
    expect(response.status).toBe(400);
    expect(body.error).toMatchObject({ code: 'context_length_exceeded', param: 'prompt' });
    expect(body.error.message).toMatch(/maximum context length is 512 tokens; the prompt is 100000 characters/);
  });

  it('tokenizes a prompt just under the byte bound and refuses it by its exact count', async () => {
    // 2,800 characters (3,400 bytes with spaces as "▁") pass the bound of 496 tokens x 9 bytes, but are over 1,000
    // tokens: the tokenizer runs, and the exact count refuses them.
    const { response, body } = await whileHealthy(() => post('/v1/completions', { model: 'stories260K', prompt: 'Once upon a time there was a cat. '.repeat(100).slice(0, 2_800) }));
    expect(response.status).toBe(400);
    expect(body.error).toMatchObject({ code: 'context_length_exceeded', param: 'max_tokens' });
    expect(body.error.message).toMatch(/the prompt has \d+ and max_tokens asks for 16/);
  });

  it.each([
    ['1,000 messages', Array.from({ length: 1_000 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: 'hi' })), /1000 messages take at least 1000 tokens/],
    ['one 100,000-character message', [{ role: 'user', content: 'a'.repeat(100_000) }], /the messages hold 100000 characters/],
    ['100,000 characters in text parts', [{ role: 'user', content: Array.from({ length: 1_000 }, () => ({ type: 'text', text: 'b'.repeat(100) })) }], /the messages hold 100000 characters/],
  ])('refuses a chat of %s before rendering it', async (_name, messages, message) => {
    const { response, body } = await whileHealthy(() => post('/v1/chat/completions', { model: 'stories260K', messages }));
    expect(response.status).toBe(400);
    expect(body.error).toMatchObject({ code: 'context_length_exceeded', param: 'messages' });
    expect(body.error.message).toMatch(message);
  });

  it('still generates for a prompt that fits, after all that', async () => {
    const response = await post('/v1/completions', { model: 'stories260K', prompt: 'Once upon a time', max_tokens: 5, temperature: 0 });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(5);
  });
});
