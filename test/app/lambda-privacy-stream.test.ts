/**
 * PII masking on the production Lambda entry (stream-handler.ts, RESPONSE_STREAM, through Hono's streamHandle on a
 * harness of Lambda's streaming runtime), policies in DynamoDB (dynalite): the upstream, a real HTTP server on
 * 127.0.0.1 that records what it receives and streams values cut across chunks, never gets the prompt's values, and
 * the client's stream holds none either, each event still framed as SSE.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalDynamo, type LocalDynamo } from '../billing/local-dynamodb.js';
import { functionUrlEvent, lambdaContext } from './lambda-events.js';
import { installLambdaStreamingRuntime, invokeStreaming } from './lambda-stream-runtime.js';

const ADMIN_TOKEN = 'lambda-privacy-stream-admin';
const EMAIL = 'jane.doe@example.com';
const PHONE = '+44 20 7946 0958';
const CARD = '4111 1111 1111 1111';
const VALUES = [EMAIL, PHONE, CARD];
const STREAMED = ['Sure. Write to jane.d', 'oe@example.com or call +44 20 ', '7946 0958; the card ', '4111 1111 1111 1111 is on file.'];

let dynamo: LocalDynamo;
let upstream: { url: string; bodies: string[]; close(): Promise<void> };
let env: Record<string, string>;
let handler: unknown;

beforeAll(async () => {
  const bodies: string[] = [];
  const server = createServer(async (req, res) => {
    if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    let body = '';
    for await (const chunk of req) body += chunk;
    bodies.push(body);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const event = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'x1', created: 1, model: 'stories260K', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    for (const piece of STREAMED) {
      res.write(event({ content: piece }, null));
      await new Promise((r) => setTimeout(r, 5));
    }
    res.write(event({}, 'stop'));
    res.end('data: [DONE]\n\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  upstream = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
  dynamo = await startLocalDynamo();
  env = { BILLING_TABLE: dynamo.tables.billing, USAGE_TABLE: dynamo.tables.usage, DYNAMODB_ENDPOINT: dynamo.endpoint, ADMIN_TOKEN, GENERATION_UPSTREAM_URL: upstream.url };
  Object.assign(process.env, env);
  installLambdaStreamingRuntime();
  ({ handler } = await import('../../functions/lambda/stream-handler.js'));
}, 60_000);
afterAll(async () => {
  for (const name of Object.keys(env ?? {})) delete process.env[name];
  await upstream?.close();
  await dynamo?.close();
});

const invoke = (method: string, path: string, body: unknown, headers: Record<string, string>) =>
  invokeStreaming(handler, functionUrlEvent(method, path, JSON.stringify(body), { 'content-type': 'application/json', ...headers }), lambdaContext);
const admin = async (method: string, path: string, body: unknown) => {
  const res = await invoke(method, `/admin${path}`, body, { authorization: `Bearer ${ADMIN_TOKEN}` });
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, any> };
};

describe('pii=mask on the streaming Lambda entry', () => {
  it('masks the prompt before the upstream and the streamed answer before the client, keeping SSE framing', async () => {
    expect((await admin('POST', '/tenants', { id: 'streamed' })).status).toBe(201);
    const { key } = (await admin('POST', '/keys', { tenant: 'streamed' })).body as { key: string };
    expect((await admin('PUT', '/tenants/streamed/privacy', { pii: 'mask' })).body).toMatchObject({ pii: 'mask', source: 'tenant' });
    const answer = await invoke('POST', '/v1/chat/completions', {
      model: 'tiny-stories', stream: true, max_tokens: 16, messages: [{ role: 'user', content: `I am ${EMAIL}, call ${PHONE}, card ${CARD}.` }],
    }, { authorization: `Bearer ${key}` });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['x-edge-maas-privacy']).toBe('pii=mask; retention=standard');
    expect(upstream.bodies).toHaveLength(1);
    for (const value of VALUES) {
      expect(upstream.bodies[0], value).not.toContain(value);
      expect(answer.body, value).not.toContain(value);
    }
    expect((JSON.parse(upstream.bodies[0]!) as { messages: { content: string }[] }).messages[0]!.content).toBe('I am [EMAIL], call [PHONE], card [CARD].');
    expect(answer.body.endsWith('\n\n')).toBe(true);
    const events = answer.body.slice(0, -2).split('\n\n');
    for (const e of events) expect(e).toMatch(/^data: (\{.*\}|\[DONE\])$/s);
    expect(events.at(-1)).toBe('data: [DONE]');
    const text = events.slice(0, -1).map((e) => (JSON.parse(e.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Sure. Write to [EMAIL] or call [PHONE]; the card [CARD] is on file.');
  }, 60_000);
});
