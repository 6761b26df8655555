// The generation server's app in process (its HTTP side is covered through the router): limits it enforces itself.
import { describe, expect, it } from 'vitest';
import { createGenerationApp } from '../../functions/generation/create-generation-app.js';
import { storiesEngine } from './helpers.js';

const post = (app: ReturnType<typeof createGenerationApp>, body: unknown) =>
  app.request('/v1/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('the generation app', () => {
  it('ends a request that runs past its time limit: 504, or an error event when streamed', async () => {
    const engine = await storiesEngine();
    const app = createGenerationApp({ models: new Map([['stories260K', engine]]), requestTimeoutMs: 40 });
    const slow = await post(app, { model: 'stories260K', prompt: 'Once upon a time', max_tokens: 500, temperature: 0.9, seed: 2 });
    expect(slow.status).toBe(504);
    expect(((await slow.json()) as { error: { code: string } }).error.code).toBe('timeout');
    const streamed = await (await post(app, { model: 'stories260K', prompt: 'Once upon a time', max_tokens: 500, temperature: 0.9, seed: 2, stream: true })).text();
    expect(streamed.trim().split('\n\n').at(-1)).toMatch(/"code":"timeout"/);
    expect(streamed).not.toContain('[DONE]');
    expect(engine.load).toEqual({ active: 0, waiting: 0 });
  });

  it('answers 503 with Retry-After when its queue is full', async () => {
    const engine = await storiesEngine({ maxBatch: 1, maxQueue: 1 });
    const app = createGenerationApp({ models: new Map([['stories260K', engine]]), requestTimeoutMs: 10_000 });
    const body = { model: 'stories260K', prompt: 'Once upon a time', max_tokens: 50 };
    const answers = await Promise.all([post(app, body), post(app, body), post(app, body)]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 503]);
    expect(answers.find((r) => r.status === 503)!.headers.get('retry-after')).toBe('1');
  });

  it.each([
    ['an empty stop string', '', /"stop" holds an empty string/],
    ['an empty stop string in a list', ['\n', ''], /"stop" holds an empty string/],
    ['a stop string over 256 characters', ['x'.repeat(257)], /"stop" holds a string of 257 characters; each stop string may have at most 256/],
    ['five stop strings', ['a', 'b', 'c', 'd', 'e'], /at most 4/],
  ])('refuses %s with 400 naming "stop"', async (_name, stop, message) => {
    const app = createGenerationApp({ models: new Map([['stories260K', await storiesEngine()]]), requestTimeoutMs: 10_000 });
    const res = await post(app, { model: 'stories260K', prompt: 'Once upon a time', max_tokens: 5, stop });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { message: string; param: string } };
    expect(error.param).toBe('stop');
    expect(error.message).toMatch(message);
  });

  it('takes a stop string of 256 characters', async () => {
    const app = createGenerationApp({ models: new Map([['stories260K', await storiesEngine()]]), requestTimeoutMs: 10_000 });
    const res = await post(app, { model: 'stories260K', prompt: 'Once upon a time', max_tokens: 5, stop: ['y'.repeat(256)] });
    expect(res.status).toBe(200);
  });

  it('refuses a body over its limit with 413 before parsing it', async () => {
    const app = createGenerationApp({ models: new Map([['stories260K', await storiesEngine()]]), requestTimeoutMs: 10_000 });
    const res = await post(app, { model: 'stories260K', prompt: 'a'.repeat(2 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('body_too_large');
  });

  it('names max_tokens when it alone leaves no room for a prompt', async () => {
    const app = createGenerationApp({ models: new Map([['stories260K', await storiesEngine()]]), requestTimeoutMs: 10_000 });
    const res = await post(app, { model: 'stories260K', prompt: 'hi', max_tokens: 512 });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 'context_length_exceeded', param: 'max_tokens', message: expect.stringMatching(/max_tokens asks for 512, which leaves no room/) });
  });

  it('repeats at most 100 characters of a model name it does not serve', async () => {
    const app = createGenerationApp({ models: new Map([['stories260K', await storiesEngine()]]), requestTimeoutMs: 10_000 });
    const res = await post(app, { model: 'm'.repeat(500_000), prompt: 'hi' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 'model_not_found', message: expect.stringMatching(/^model "m{100}…" does not exist; available: stories260K$/) });
  });
});
