// The official openai client, unchanged, against the router that npm start runs (with its embedded generation server).
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startServer } from '../../functions/node/start-server.js';
import { useOpenAiServer } from '../helpers/openai-server.js';
import { REFERENCE } from './helpers.js';

const router = useOpenAiServer(() => startServer({ port: 0 }), 'not-needed-in-open-mode');

describe('generation through the router with the openai client', () => {
  it('text completion: greedy reproduces the reference, with usage', async () => {
    const completion = await router.client.completions.create({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 30, temperature: 0 });
    expect(`Once upon a time${completion.choices[0]!.text}`.startsWith(REFERENCE)).toBe(true);
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expect(completion.usage).toEqual({ prompt_tokens: 5, completion_tokens: 30, total_tokens: 35 });
  });

  it('chat completion, not streamed, through an alias', async () => {
    const chat = await router.client.chat.completions.create({ model: 'tiny-stories', messages: [{ role: 'system', content: 'You tell stories.' }, { role: 'user', content: 'A story about a cat' }], max_tokens: 12, seed: 5 });
    expect(chat.object).toBe('chat.completion');
    expect(chat.choices[0]!.message.role).toBe('assistant');
    expect(chat.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(chat.usage!.completion_tokens).toBe(12);
  });

  it.each(['chat', 'completion'] as const)('%s streamed: chunks arrive one token at a time and include_usage matches them', async (kind) => {
    const stream = kind === 'chat'
      ? await router.client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 30, temperature: 0, stream: true, stream_options: { include_usage: true } })
      : await router.client.completions.create({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 30, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let pieces = 0;
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream as AsyncIterable<OpenAI.ChatCompletionChunk | OpenAI.Completion>) {
      const choice = chunk.choices[0] as { delta?: { content?: string | null }; text?: string; finish_reason: string | null } | undefined;
      const piece = choice?.delta?.content ?? choice?.text ?? '';
      if (piece) {
        pieces++;
        text += piece;
      }
      finish = choice?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(finish).toBe('length');
    expect(usage!.completion_tokens).toBe(30);
    expect(pieces).toBe(usage!.completion_tokens); // ASCII text, no stop strings: one chunk per token
    expect(usage!.total_tokens).toBe(usage!.prompt_tokens + usage!.completion_tokens);
    if (kind === 'completion') expect(`Once upon a time${text}`.startsWith(REFERENCE)).toBe(true);
  });

  it.each([
    ['empty messages', { model: 'stories260K', messages: [] }, 400, /"messages" must hold at least one message/],
    ['unknown role', { model: 'stories260K', messages: [{ role: 'wizard', content: 'hi' }] }, 400, /role/],
    ['max_tokens 0', { model: 'stories260K', messages: [{ role: 'user', content: 'hi' }], max_tokens: 0 }, 400, /max_tokens/],
    ['max_tokens above the model limit', { model: 'stories260K', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100_000 }, 400, /at most 512/],
    ['prompt and max_tokens over the context', { model: 'stories260K', messages: [{ role: 'user', content: 'word '.repeat(300) }], max_tokens: 500 }, 400, /maximum context length is 512/],
    ['n > 1', { model: 'stories260K', messages: [{ role: 'user', content: 'hi' }], n: 2 }, 400, /"n" must be 1/],
    ['unknown model', { model: 'gpt-9', messages: [{ role: 'user', content: 'hi' }] }, 404, /does not exist/],
    ['a classifier', { model: 'sentiment', messages: [{ role: 'user', content: 'hi' }] }, 400, /does not generate text/],
  ])('%s gets a clear error', async (_name, body, status, message) => {
    const res = await fetch(`${router.server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
  });

  it('malformed JSON gets 400', async () => {
    const res = await fetch(`${router.server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": "stories260K", "prompt": ' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/not valid JSON/);
  });
});
