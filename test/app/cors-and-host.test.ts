// Browser clients (CORS) and requests Node cannot even turn into a Request, against a real server on 127.0.0.1.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ port: 0, generation: false, billing: false, corsOrigins: ['https://app.example'] });
}, 60_000);
afterAll(async () => server?.close());

/** One raw HTTP/1.1 exchange, so that headers fetch would refuse to send can be sent. */
function raw(request: string): Promise<string> {
  const { port } = new URL(server.url);
  return new Promise((done, fail) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => done(answer));
    socket.on('error', fail);
  });
}

describe('CORS', () => {
  it('answers a preflight from an allowed origin without a key, with the headers a client needs', async () => {
    const res = await fetch(`${server.url}/v1/classify`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, idempotency-key' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('idempotency-key');
    const answer = await fetch(`${server.url}/v1/classify`, { method: 'POST', headers: { origin: 'https://app.example', 'content-type': 'application/json' }, body: '{"input": "fine"}' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-expose-headers')).toMatch(/x-request-id/i);
  });

  it('gives another origin no CORS headers', async () => {
    const res = await fetch(`${server.url}/v1/models`, { headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('requests the server cannot build', () => {
  it.each([
    ['no Host header', 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n', 400],
    ['an Expect it does not know', 'POST /v1/classify HTTP/1.1\r\nHost: x\r\nExpect: weird\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}', 417],
    ['CONNECT', 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', 405],
  ])('with %s get the JSON error shape and a request id', async (_what, request, status) => {
    const answer = await raw(request);
    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status}`));
    expect(answer).toMatch(/\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
    expect(answer).toMatch(/"type":"invalid_request_error"/);
  });

  it.each(['evil.example:99999', 'a b'])('with Host "%s" get the JSON error shape', async (host) => {
    const answer = await raw(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toMatch(/\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
    const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
    expect(JSON.parse(body.trim().replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n$/, '')).error.type).toBe('invalid_request_error');
  });
});
