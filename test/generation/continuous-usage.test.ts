// vLLM's stream_options.continuous_usage_stats on the generation server, read with the official openai client:
// every chunk carries the usage so far, so a stream cut short still tells what its prompt cost (issue 17, defect 9).
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startGenerationServer } from '../../functions/node/start-generation-server.js';
import { useOpenAiServer } from '../helpers/openai-server.js';

const generation = useOpenAiServer(() => startGenerationServer({ port: 0 }), 'none');

type Options = { include_usage?: boolean; continuous_usage_stats?: boolean };
type Chunk = OpenAI.ChatCompletionChunk | OpenAI.Completion;

/** A streamed request with stream_options the client's types do not know (vLLM's extension). */
function stream(kind: 'chat' | 'completion', streamOptions: Options, maxTokens = 20, signal?: AbortSignal) {
  const common = { model: 'stories260K', max_tokens: maxTokens, temperature: 0, stream: true as const, stream_options: streamOptions as OpenAI.ChatCompletionStreamOptions };
  return kind === 'chat'
    ? generation.client.chat.completions.create({ ...common, messages: [{ role: 'user', content: 'Once upon a time' }] }, { signal })
    : generation.client.completions.create({ ...common, prompt: 'Once upon a time' }, { signal });
}

const textOf = (chunk: Chunk) => {
  const choice = chunk.choices[0] as { delta?: { content?: string | null }; text?: string } | undefined;
  return choice?.delta?.content ?? choice?.text ?? '';
};

async function collect(kind: 'chat' | 'completion', options: Options, maxTokens?: number): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for await (const chunk of (await stream(kind, options, maxTokens)) as AsyncIterable<Chunk>) chunks.push(chunk);
  return chunks;
}

describe('stream_options.continuous_usage_stats', () => {
  it.each(['chat', 'completion'] as const)('%s: every chunk carries the usage so far, and the final usage chunk the total', async (kind) => {
    const whole = kind === 'chat'
      ? await generation.client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 20, temperature: 0 })
      : await generation.client.completions.create({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 20, temperature: 0 });
    const prompt = whole.usage!.prompt_tokens;
    const chunks = await collect(kind, { include_usage: true, continuous_usage_stats: true });
    for (const chunk of chunks) {
      expect(chunk.usage, JSON.stringify(chunk)).toBeTruthy();
      expect(chunk.usage!.prompt_tokens).toBe(prompt);
      expect(chunk.usage!.total_tokens).toBe(prompt + chunk.usage!.completion_tokens);
    }
    const content = chunks.filter((c) => textOf(c) !== '');
    // ASCII text, no stop strings: one content chunk per token, the k-th having completion_tokens k.
    expect(content.map((c) => c.usage!.completion_tokens)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    if (kind === 'chat') expect(chunks[0]!.usage).toEqual({ prompt_tokens: prompt, completion_tokens: 0, total_tokens: prompt }); // the role chunk
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish!.usage).toEqual(whole.usage);
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage).toEqual(whole.usage);
    expect(content.map(textOf).join('')).toBe(kind === 'chat' ? (whole as OpenAI.ChatCompletion).choices[0]!.message.content : (whole as OpenAI.Completion).choices[0]!.text);
  });

  it('as vLLM: stream_options given means include_usage, unless it is false; continuous usage needs include_usage', async () => {
    const implied = await collect('completion', { continuous_usage_stats: true }, 5);
    expect(implied.every((c) => c.usage && c.usage.prompt_tokens > 0)).toBe(true);
    const off = await collect('completion', { include_usage: false, continuous_usage_stats: true }, 5);
    expect(off.every((c) => !('usage' in c))).toBe(true);
    const plain = await collect('completion', { include_usage: true }, 5);
    expect(plain.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(plain.at(-1)!.usage!.completion_tokens).toBe(5);
  });

  it('a stream the client cancels has already told its prompt tokens', async () => {
    const abort = new AbortController();
    const seen: OpenAI.CompletionUsage[] = [];
    try {
      for await (const chunk of (await stream('chat', { include_usage: true, continuous_usage_stats: true }, 400, abort.signal)) as AsyncIterable<Chunk>) {
        seen.push(chunk.usage!);
        if (seen.length === 4) {
          abort.abort();
          break;
        }
      }
    } catch (error) {
      expect((error as Error).name).toMatch(/Abort/);
    }
    expect(seen).toHaveLength(4);
    expect(seen[0]!.prompt_tokens).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual({ prompt_tokens: seen[0]!.prompt_tokens, completion_tokens: 3, total_tokens: seen[0]!.prompt_tokens + 3 });
    // The cancelled generation frees its slot.
    for (let wait = 0; generation.server.engine.load.active > 0 && wait < 100; wait++) await new Promise((r) => setTimeout(r, 10));
    expect(generation.server.engine.load).toEqual({ active: 0, waiting: 0 });
  });
});
