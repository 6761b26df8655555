// A stalled upstream (issue 17, defect 7): a real generation server process stopped with SIGSTOP keeps its
// connections open and sends nothing. A stream it was sending ends with an error event after the idle timeout,
// and a new request finds it down (its /health is silent too) instead of waiting for the total timeout.
import { describe, expect, it } from 'vitest';
import { complete, errorOf, onCleanup, readEvents, router, spawnGenerationServer, stopAfterEach } from './upstream-helpers.js';

const POLICY = {
  connectTimeoutMs: 200, probeTimeoutMs: 300, firstTokenTimeoutMs: 5_000, idleTimeoutMs: 300, totalTimeoutMs: 60_000, retries: 1, backoffMs: 10,
  breaker: { failureThreshold: 10, openMs: 1_000 },
};
stopAfterEach();

describe('an upstream stopped with SIGSTOP', () => {
  it('ends its stream with an idle-timeout error event, and answers new requests 502', async () => {
    const upstream = await spawnGenerationServer();
    onCleanup(() => void upstream.child.kill('SIGCONT'));
    const { url } = await router([upstream.url], { policy: POLICY });
    const response = await complete(url, { max_tokens: 500, temperature: 0.8, seed: 2, stream: true });
    expect(response.status).toBe(200);
    const events = await readEvents(response, (n) => void (n === 3 && upstream.child.kill('SIGSTOP')));
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events).not.toContain('[DONE]');
    expect(JSON.parse(events.at(-1)!)).toMatchObject({ error: { code: 'upstream_idle_timeout', type: 'server_error' } });

    for (const stream of [false, true]) {
      const refused = await complete(url, { max_tokens: 5, stream });
      expect(refused.status).toBe(502);
      expect((await errorOf(refused)).message).toMatch(/\/health/);
    }
  });
});
