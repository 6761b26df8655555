// Slow is not down (issue 17, defect 4): a non-streamed completion sends its headers only when it is done, so an
// upstream that takes longer than the connect timeout is waiting on the model, not gone. The router keeps
// waiting (up to the total timeout), runs nothing twice, and its breaker stays closed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGenerationServer, type RunningGenerationServer } from '../../functions/node/start-generation-server.js';
import { complete, errorOf, rawUpstream, router, stopAfterEach } from './upstream-helpers.js';

const POLICY = { connectTimeoutMs: 20, firstTokenTimeoutMs: 5_000, idleTimeoutMs: 5_000, totalTimeoutMs: 20_000, retries: 1, backoffMs: 10 };
stopAfterEach();

let upstream: RunningGenerationServer;
beforeAll(async () => {
  upstream = await startGenerationServer({ port: 0 });
});
afterAll(() => upstream.close());

/** Real fetch, counting the completions it sends (the reachability probe is a GET and not counted). */
function countingFetch() {
  const counter = { posts: 0, fetch: ((input, init) => {
    if (init?.method === 'POST') counter.posts++;
    return fetch(input, init);
  }) as typeof fetch };
  return counter;
}

describe('an upstream slower than the connect timeout', () => {
  it('answers every one of many concurrent non-streamed requests, each run once', async () => {
    const counter = countingFetch();
    const { url, client } = await router([upstream.url], { policy: POLICY, fetch: counter.fetch });
    const n = 8;
    const timed = await Promise.all(Array.from({ length: n }, async (_, i) => {
      const t0 = performance.now();
      const response = await complete(url, { max_tokens: 64, temperature: 0.8, seed: i });
      const body = (await response.json()) as { usage?: { completion_tokens: number }; error?: unknown };
      return { status: response.status, body, ms: performance.now() - t0 };
    }));
    expect(timed.map((t) => t.status)).toEqual(Array(n).fill(200));
    expect(timed.every((t) => t.body.usage?.completion_tokens === 64)).toBe(true);
    // The case under test: answers that took longer than the connect timeout.
    expect(Math.max(...timed.map((t) => t.ms))).toBeGreaterThan(POLICY.connectTimeoutMs);
    expect(counter.posts).toBe(n);
    expect(client.breaker(upstream.url).state).toBe('closed');
  });

  it('gives up on a non-streamed answer at the total timeout: 504, not retried, not a breaker failure', async () => {
    const held = await rawUpstream(() => {}); // takes the request, answers /health, never the request
    const { url, client } = await router([held.url], { policy: { ...POLICY, totalTimeoutMs: 300, breaker: { failureThreshold: 1 } } });
    const response = await complete(url, { max_tokens: 5 });
    expect(response.status).toBe(504);
    expect((await errorOf(response)).code).toBe('upstream_timeout');
    expect(held.posts).toBe(1);
    expect(client.breaker(held.url).state).toBe('closed');
  });
});
