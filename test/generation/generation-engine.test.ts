import { beforeAll, describe, expect, it } from 'vitest';
import type { GenerationEngine, GenerationRequest } from '../../functions/engine/generation/generation-engine.js';
import { GREEDY, REFERENCE, storiesEngine } from './helpers.js';

let engine: GenerationEngine;
/** The batch size of every decode step the engine has run. */
const stepSizes: number[] = [];
beforeAll(async () => {
  engine = await storiesEngine({ onStep: (batchSize) => stepSizes.push(batchSize) });
});

const request = (prompt: string, extra: Partial<GenerationRequest> = {}): GenerationRequest => ({
  promptIds: engine.tokenizer.encode(prompt), maxTokens: 40, sampling: GREEDY, seed: 1, stop: [], ...extra,
});

describe('GenerationEngine on stories260K', () => {
  it('reproduces the llama2.c reference continuation with greedy decoding', async () => {
    const result = await engine.generate(request('Once upon a time', { maxTokens: 30 }));
    expect(`Once upon a time${result.text}`.startsWith(REFERENCE)).toBe(true);
    expect(result).toMatchObject({ promptTokens: 5, completionTokens: 30, finishReason: 'length' });
  });

  it('batches concurrent sequences in one step and gives each the text it gets alone, joining mid-way included', async () => {
    const prompts = ['Once upon a time', 'Lily and Tom', 'The big dog', 'One day, a bird'];
    const alone = [];
    for (const p of prompts) alone.push((await engine.generate(request(p))).text);
    const before = stepSizes.length;
    let decoding!: () => void;
    const firstToken = new Promise<void>((resolve) => (decoding = resolve));
    const first = prompts.slice(0, 2).map((p) => engine.generate(request(p, { onText: () => decoding() })));
    await firstToken; // the others join a batch already decoding
    const later = prompts.slice(2).map((p) => engine.generate(request(p)));
    const together = await Promise.all([...first, ...later]);
    expect(together.map((r) => r.text)).toEqual(alone);
    expect(Math.max(...stepSizes.slice(before))).toBeGreaterThanOrEqual(3);
  });

  it('repeats a sampled output for the same seed, and not for another', async () => {
    const sampled = (seed: number) => engine.generate(request('Once upon a time', { sampling: { temperature: 1, topP: 0.9, topK: 40 }, seed }));
    const [a, b, c] = await Promise.all([sampled(42), sampled(42), sampled(43)]);
    expect(a!.text).toBe(b!.text);
    expect(a!.text).not.toBe(c!.text);
  });

  it('ends at a stop string without sending it, and streams exactly the final text', async () => {
    const streamed: string[] = [];
    const result = await engine.generate(request('Once upon a time', { stop: ['Lily'], onText: (t) => streamed.push(t) }));
    expect(result.finishReason).toBe('stop');
    expect(result.text).toBe(', there was a little girl named ');
    expect(streamed.join('')).toBe(result.text);
  });

  it('stops a cancelled sequence at once and frees its slot', async () => {
    const abort = new AbortController();
    let chunks = 0;
    const pending = engine.generate(request('Once upon a time', { maxTokens: 400, signal: abort.signal, onText: () => ++chunks === 5 && abort.abort() }));
    const result = await pending;
    expect(result.finishReason).toBe('cancelled');
    expect(result.completionTokens).toBeLessThan(10);
    expect(engine.load).toEqual({ active: 0, waiting: 0 });
  });

  it('refuses work beyond its queue', async () => {
    const small = await storiesEngine({ maxBatch: 1, maxQueue: 1 });
    const running = small.generate({ promptIds: [1, 2], maxTokens: 5, sampling: GREEDY, seed: 1, stop: [] });
    const queued = small.generate({ promptIds: [1, 2], maxTokens: 5, sampling: GREEDY, seed: 1, stop: [] });
    expect(() => small.generate({ promptIds: [1, 2], maxTokens: 5, sampling: GREEDY, seed: 1, stop: [] })).toThrow(/queue is full/);
    await Promise.all([running, queued]);
  });
});
