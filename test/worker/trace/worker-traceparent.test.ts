// The Worker runs no OpenTelemetry SDK, yet a caller's W3C traceparent reaches the GPU upstream (vLLM continues the
// trace): well-formed ones as sent (a later version as version 00), with their tracestate; malformed ones never.
import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';

const ADMIN = { authorization: 'Bearer worker-test-admin' };
const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const receivedUrl = (env as { TEST_RECEIVED_URL: string }).TEST_RECEIVED_URL;

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  exports.default.fetch(new Request(`http://edge.test${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }));

let key: string;
beforeAll(async () => {
  expect((await post('/admin/tenants', { id: 'edge_trace' }, ADMIN)).status).toBe(201);
  key = ((await (await post('/admin/keys', { tenant: 'edge_trace', rpm: 10_000 }, ADMIN)).json()) as { key: string }).key;
});

/** One chat completion with these headers, read to its end; the trace headers the upstream got for it. */
async function sentUpstream(headers: Record<string, string>, stream = false): Promise<{ traceparent?: string; tracestate?: string }> {
  const before = ((await (await fetch(receivedUrl)).json()) as unknown[]).length;
  const res = await post('/v1/chat/completions', { model: 'stories260K', messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 4, stream }, { authorization: `Bearer ${key}`, ...headers });
  expect(res.status).toBe(200);
  await res.text();
  const received = (await (await fetch(receivedUrl)).json()) as Array<Record<string, string>>;
  expect(received).toHaveLength(before + 1);
  const { traceparent, tracestate } = received.at(-1)!;
  return { traceparent, tracestate };
}

describe('the caller\'s traceparent in the Worker', () => {
  it('reaches the upstream as it was sent, with its tracestate, whole and streamed', async () => {
    expect(await sentUpstream({ traceparent: TRACE, tracestate: 'congo=t61rcWkgMzE, rojo=00f067aa0ba902b7' })).toEqual({ traceparent: TRACE, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' });
    expect(await sentUpstream({ traceparent: TRACE }, true)).toEqual({ traceparent: TRACE, tracestate: undefined });
  });

  it('sends a later version on as version 00, keeping the trace id', async () => {
    expect(await sentUpstream({ traceparent: '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-what-the-future-holds' })).toEqual({ traceparent: TRACE, tracestate: undefined });
  });

  it('drops a malformed traceparent, and its tracestate with it', async () => {
    for (const traceparent of [
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01', // upper case
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // no trace id
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // no parent id
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // the forbidden version
      `${TRACE}-extra`, // version 00 has nothing after its flags
      'not a trace',
    ]) {
      expect(await sentUpstream({ traceparent, tracestate: 'congo=t61rcWkgMzE' })).toEqual({ traceparent: undefined, tracestate: undefined });
    }
    expect(await sentUpstream({})).toEqual({ traceparent: undefined, tracestate: undefined });
  });

  it('keeps a valid traceparent and drops a malformed tracestate', async () => {
    expect(await sentUpstream({ traceparent: TRACE, tracestate: 'Bad Key=1' })).toEqual({ traceparent: TRACE, tracestate: undefined });
  });
});
