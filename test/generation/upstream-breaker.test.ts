// The circuit breaker's half-open state over HTTP (issue 20): once the open time has passed, exactly one
// request probes the upstream; the others meanwhile get 503 with Retry-After at once; the probe's success
// closes the circuit again.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { complete, errorOf, rawUpstream, router, stopAfterEach } from './upstream-helpers.js';

const POLICY = { connectTimeoutMs: 100, retries: 0, backoffMs: 10, breaker: { failureThreshold: 2, openMs: 300 } };
stopAfterEach();

const COMPLETION = JSON.stringify({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'stories260K', choices: [{ index: 0, text: ' there', logprobs: null, finish_reason: 'length' }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } });

describe('a circuit that is half-open', () => {
  it('lets one probe through, answers the others 503 with Retry-After, and closes on the probe\'s success', async () => {
    let mode: 'failing' | 'holding' | 'fine' = 'failing';
    const heldResponses: ServerResponse[] = [];
    let probeArrived!: () => void;
    const arrived = new Promise<void>((r) => (probeArrived = r));
    const upstream = await rawUpstream((_req, res) => {
      if (mode === 'failing') res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"boom"}}');
      else if (mode === 'holding') {
        heldResponses.push(res);
        probeArrived();
      } else res.writeHead(200, { 'content-type': 'application/json' }).end(COMPLETION);
    });
    const { url, client } = await router([upstream.url], { policy: POLICY });
    const breaker = client.breaker(upstream.url);
    for (let i = 0; i < 2; i++) expect((await complete(url, { max_tokens: 1 })).status).toBe(502);
    expect(breaker.state).toBe('open');
    expect((await complete(url, { max_tokens: 1 })).status).toBe(503);
    expect(upstream.posts).toBe(2);

    mode = 'holding';
    while (breaker.state !== 'half-open') await new Promise((r) => setTimeout(r, 20));
    const probe = complete(url, { max_tokens: 1 });
    await arrived;
    const others = await Promise.all(Array.from({ length: 4 }, () => complete(url, { max_tokens: 1 })));
    for (const other of others) {
      expect(other.status).toBe(503);
      expect(Number(other.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await errorOf(other)).code).toBe('upstream_unavailable');
    }
    expect(upstream.posts).toBe(3); // the probe alone

    mode = 'fine';
    heldResponses[0]!.writeHead(200, { 'content-type': 'application/json' }).end(COMPLETION);
    expect((await probe).status).toBe(200);
    expect(breaker.state).toBe('closed');
    expect((await complete(url, { max_tokens: 1 })).status).toBe(200);
    expect(upstream.posts).toBe(4);
  });
});
