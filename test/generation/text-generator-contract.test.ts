// One TextGenerator contract, run on both of its backends: the local generator over the ONNX engine (in process)
// and the router's upstream client pointed at a real generation server on 127.0.0.1. The same calls give the same
// answers in OpenAI's shapes, whole and streamed; a refusal is an ApiError the generator throws or the backend's
// 4xx passed on as it is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../functions/http/errors.js';
import { LocalGenerator } from '../../functions/generation/local-generator.js';
import { startGenerationServer, type RunningGenerationServer } from '../../functions/node/start-generation-server.js';
import type { GenerationCall, OpenAiGenerator } from '../../functions/protocol/generation-call.js';
import { ChatCompletionRequest, CompletionRequest } from '../../functions/protocol/openai-schemas.js';
import { UpstreamClient } from '../../functions/upstream/upstream-client.js';
import { REFERENCE, storiesEngine } from './helpers.js';
import { readEvents } from './upstream-helpers.js';

let server: RunningGenerationServer;
const backends: Record<'local' | 'upstream', OpenAiGenerator> = {} as never;
beforeAll(async () => {
  server = await startGenerationServer({ port: 0 });
  let ids = 0;
  backends.local = new LocalGenerator(await storiesEngine(), { requestTimeoutMs: 10_000, newId: () => String(++ids), now: () => 0 });
  backends.upstream = new UpstreamClient().generator([{ url: server.url, model: 'stories260K' }]);
});
afterAll(() => server.close());

const completion = (body: Record<string, unknown>): GenerationCall => {
  const full = { model: 'stories260K', prompt: 'Once upon a time', ...body };
  return { kind: 'completion', request: CompletionRequest.parse(full), body: full, signal: new AbortController().signal };
};
const chat = (body: Record<string, unknown>): GenerationCall => {
  const full = { model: 'stories260K', messages: [{ role: 'user', content: 'Once upon a time' }], ...body };
  return { kind: 'chat', request: ChatCompletionRequest.parse(full), body: full, signal: new AbortController().signal };
};

/** A refusal as the caller sees it, thrown or answered. */
async function refusal(answer: Promise<Response>): Promise<{ status: number; code: string; param: string | null }> {
  try {
    const response = await answer;
    const { error } = (await response.json()) as { error: { code: string; param: string | null } };
    return { status: response.status, code: error.code, param: error.param };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { status: error.status, code: error.code, param: error.param };
  }
}

describe.each(['local', 'upstream'] as const)('the TextGenerator contract on the %s backend', (name) => {
  it('generate: the whole completion in OpenAI\'s shape, greedy giving the reference, with usage', async () => {
    const response = await backends[name].generate(completion({ max_tokens: 30, temperature: 0 }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const answer = (await response.json()) as { object: string; choices: { text: string; finish_reason: string }[]; usage: unknown };
    expect(answer.object).toBe('text_completion');
    expect(`Once upon a time${answer.choices[0]!.text}`.startsWith(REFERENCE)).toBe(true);
    expect(answer.choices[0]!.finish_reason).toBe('length');
    expect(answer.usage).toEqual({ prompt_tokens: 5, completion_tokens: 30, total_tokens: 35 });
  });

  it('stream: server-sent chunks, the role first, the usage chunk last, then [DONE]', async () => {
    const response = await backends[name].stream(chat({ max_tokens: 8, temperature: 0, stream: true, stream_options: { include_usage: true } }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await readEvents(response);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { object: string; choices: { delta: Record<string, string> }[]; usage: { completion_tokens: number } | null });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 8 } });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('streams or not as the method called says, whatever the body\'s "stream" says', async () => {
    const streamed = await backends[name].stream(completion({ max_tokens: 3, temperature: 0 }));
    expect((await readEvents(streamed)).at(-1)).toBe('[DONE]');
    const whole = await backends[name].generate(completion({ max_tokens: 3, temperature: 0, stream: true }));
    expect(((await whole.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(3);
  });

  it('refuses a prompt that cannot fit beside max_tokens: 400 context_length_exceeded naming max_tokens', async () => {
    expect(await refusal(backends[name].generate(completion({ max_tokens: 600 })))).toEqual({ status: 400, code: 'context_length_exceeded', param: 'max_tokens' });
  });
});

it('both backends give the same greedy text for the same call', async () => {
  const texts = await Promise.all(Object.values(backends).map(async (backend) => {
    const answer = (await (await backend.generate(chat({ max_tokens: 20, temperature: 0 }))).json()) as { choices: { message: { content: string } }[] };
    return answer.choices[0]!.message.content;
  }));
  expect(texts[0]).toBe(texts[1]);
});
