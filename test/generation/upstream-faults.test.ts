// Faults with real processes on 127.0.0.1: a generation server killed mid-stream, down, slow, and a client
// that goes away. The router is the real app on a real port; the upstreams are real servers.
import { describe, expect, it } from 'vitest';
import { startGenerationServer } from '../../functions/node/start-generation-server.js';
import { closedPort, complete, downUntilRelayed, onCleanup, rawUpstream, readEvents, router as routerWith, spawnGenerationServer, stopAfterEach } from './upstream-helpers.js';

const POLICY = {
  connectTimeoutMs: 1_000, firstTokenTimeoutMs: 300, idleTimeoutMs: 10_000, totalTimeoutMs: 20_000, retries: 1, backoffMs: 10,
  breaker: { failureThreshold: 3, openMs: 400 },
};
stopAfterEach();
const router = async (urls: string[]) => (await routerWith(urls, { policy: POLICY })).url;

describe('the router against failing upstreams', () => {
  it('ends a stream whose upstream is killed mid-way with an error event, never a hang', async () => {
    const upstream = await spawnGenerationServer(0);
    const url = await router([upstream.url]);
    const response = await complete(url, { max_tokens: 500, temperature: 0.8, seed: 1, stream: true });
    expect(response.status).toBe(200);
    const events = await readEvents(response, (n) => void (n === 3 && upstream.child.kill('SIGKILL')));
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events.at(-1)).toMatch(/"error".*broke off/);
    expect(events).not.toContain('[DONE]');
  });

  it('answers 502 while an upstream is down, 503 at once when its circuit opens, and recovers when it is back', async () => {
    const upstream = await downUntilRelayed();
    const url = await router([upstream.url]);
    const first = await complete(url, { max_tokens: 5 });
    expect(first.status).toBe(502);
    expect(((await first.json()) as { error: { code: string } }).error.code).toBe('upstream_error');
    await complete(url, { max_tokens: 5 }); // the third failed attempt opens the circuit
    const refused = await complete(url, { max_tokens: 5 });
    expect(refused.status).toBe(503);
    // Refused by the open circuit, without an attempt (an attempt would have answered 502 upstream_error).
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/circuit is open/);
    expect(refused.headers.get('retry-after')).toBe('1');
    upstream.relayTo((await spawnGenerationServer(0)).url);
    await new Promise((r) => setTimeout(r, POLICY.breaker.openMs));
    const recovered = await complete(url, { max_tokens: 5, temperature: 0 });
    expect(recovered.status).toBe(200);
    expect(((await recovered.json()) as { choices: { text: string }[] }).choices[0]!.text).toMatch(/there/);
  });

  it('fails over to the next upstream of the registry entry', async () => {
    const live = await spawnGenerationServer(0);
    const url = await router([`http://127.0.0.1:${await closedPort()}`, live.url]);
    const response = await complete(url, { max_tokens: 5 });
    expect(response.status).toBe(200);
  });

  it('gives up on an upstream that sends no first token in time: 504, without running the request again', async () => {
    const silent = await rawUpstream((_req, res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).flushHeaders()); // headers, then nothing
    const url = await router([silent.url]);
    const t0 = performance.now();
    const response = await complete(url, { max_tokens: 5, stream: true });
    expect(response.status).toBe(504);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('upstream_timeout');
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect(silent.posts).toBe(1);
  });

  it('stops the generation and frees its slot when the client disconnects', async () => {
    let steps = 0;
    const upstream = await startGenerationServer({ port: 0, onStep: () => steps++ });
    onCleanup(() => upstream.close());
    const url = await router([upstream.url]);
    const abort = new AbortController();
    const response = await complete(url, { max_tokens: 500, temperature: 0.8, seed: 3, stream: true }, abort.signal);
    await readEvents(response, (n) => void (n === 3 && abort.abort())).catch(() => []);
    const deadline = Date.now() + 2_000;
    while (upstream.engine.load.active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(upstream.engine.load).toEqual({ active: 0, waiting: 0 });
    const stepsAtRest = steps;
    await new Promise((r) => setTimeout(r, 100));
    expect(steps).toBe(stepsAtRest);
    expect(stepsAtRest).toBeLessThan(450);
  });
});
