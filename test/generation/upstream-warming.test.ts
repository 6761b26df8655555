// A scale-to-zero GPU service waking up (issue 19, item 6): while its load balancer has no healthy target it
// answers 503 (not JSON) or 502, or no connection is made at all. For an upstream with `warmup_seconds` the
// client gets 503 `upstream_warming` with that Retry-After every time, and the onUpstreamDown hook hears of it.
import { describe, expect, it } from 'vitest';
import type { Upstream } from '../../functions/registry/registry.js';
import { closedPort, complete, errorOf, rawUpstream, router, stopAfterEach } from './upstream-helpers.js';

const POLICY = { connectTimeoutMs: 1_000, retries: 1, backoffMs: 10, breaker: { failureThreshold: 3, openMs: 60_000 } };
stopAfterEach();

// What an ALB answers with no healthy target (503) or a target that does not answer yet (502).
const alb = (status: number) => rawUpstream((_req, res) => res.writeHead(status, { 'content-type': 'text/html' }).end(`<html><body><center><h1>${status}</h1></center></body></html>`));

describe('an upstream with warmup_seconds that is still waking', () => {
  it.each([
    ['answers 503 without JSON', () => alb(503).then((u) => u.url)],
    ['answers 502', () => alb(502).then((u) => u.url)],
    ['refuses connections', async () => `http://127.0.0.1:${await closedPort()}`],
  ])('%s: 503 upstream_warming with Retry-After, also once its circuit is open; the hook is called', async (_name, start) => {
    const upstreamUrl = await start();
    const down: Upstream[] = [];
    const { url, client } = await router([{ url: upstreamUrl, warmup_seconds: 90 }], { policy: POLICY, onUpstreamDown: (u) => void down.push(u) });
    for (let i = 0; i < 3; i++) {
      const response = await complete(url, { max_tokens: 5, stream: i === 1 });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('90');
      expect(await errorOf(response)).toMatchObject({ code: 'upstream_warming', type: 'server_error' });
    }
    expect(client.breaker(upstreamUrl).state).toBe('open'); // the third request found it open
    expect(down.length).toBeGreaterThanOrEqual(3);
    expect(down.every((u) => u.url === upstreamUrl && u.warmupSeconds === 90)).toBe(true);
  });

  it('without warmup_seconds, the same 502 stays a 502', async () => {
    const upstream = await alb(502);
    const { url } = await router([upstream.url], { policy: POLICY });
    const response = await complete(url, { max_tokens: 5 });
    expect(response.status).toBe(502);
    expect(response.headers.get('retry-after')).toBeNull();
  });

  it('passes a JSON 503 (the server itself is up, busy) through as overloaded', async () => {
    const busy = await rawUpstream((_req, res) => res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '2' }).end('{"error":{"message":"busy","type":"server_error","code":"overloaded","param":null}}'));
    const down: Upstream[] = [];
    const { url } = await router([{ url: busy.url, warmup_seconds: 90 }], { policy: POLICY, onUpstreamDown: (u) => void down.push(u) });
    const response = await complete(url, { max_tokens: 5 });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    expect((await errorOf(response)).code).toBe('upstream_overloaded');
    expect(down).toEqual([]);
  });
});
