// Runs inside workerd: the Worker of wrangler.toml, with its bundled model on onnxruntime-web and billing on D1.
import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { keyIdOf, meteredAfter, meteredUsage } from './key-usage.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../../functions/registry/registry.js';
import { registryBytes } from '../../functions/worker/bundled-models.js';
import type { D1Database } from '../../functions/worker/d1-database.js';
import { priceOf } from '../billing/prices.js';
import { eventually } from '../helpers/eventually.js';

type Scores = { label: string; score: number }[];
const DB = (env as { DB: D1Database }).DB;
const ADMIN = { authorization: 'Bearer worker-test-admin' };
let key = '';
/** The default model's price in the registry the Worker bundles. */
const price = Registry.parse(JSON.parse(new TextDecoder().decode(registryBytes))).resolve('sentiment')!.price;
const inputTokens = async (answer: Response) => ((await answer.json()) as { usage: { input_tokens: number } }).usage.input_tokens;

const call = (path: string, init: RequestInit = {}) =>
  exports.default.fetch(new Request(`http://edge.test${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) } }));
const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

beforeAll(async () => {
  expect((await postJson('/admin/tenants', { id: 'edge', stripe_customer_id: 'cus_edge' }, ADMIN)).status).toBe(201);
  const created = await postJson('/admin/keys', { tenant: 'edge', rpm: 1000 }, ADMIN);
  expect(created.status).toBe(201);
  key = ((await created.json()) as { key: string }).key;
});

describe('the Worker inside workerd', () => {
  it('classifies with the bundled int8 model, in a batch as alone', async () => {
    const texts = ['a gorgeous, witty, seductive movie', 'a dull, pointless mess', 'the acting is superb'];
    const response = await postJson('/v1/classify', { input: texts }, { 'x-request-id': 'edge-test-1' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('edge-test-1');
    expect(response.headers.get('server-timing')).toMatch(/inference;dur=/);
    const body = (await response.json()) as { model: string; results: Scores[]; usage: { input_tokens: number } };
    expect(body.model).toBe('sst2-glove-bilstm@2');
    expect(body.results.map((r) => r[0]!.label)).toEqual(['POSITIVE', 'NEGATIVE', 'POSITIVE']);
    expect(body.usage.input_tokens).toBeGreaterThan(texts.length * 3);
    for (const [i, text] of texts.entries()) {
      const alone = (await (await postJson('/v1/classify', { input: text })).json()) as { results: Scores[] };
      // The default BiLSTM's LSTM gets each row's length, so padding in a batch leaves its scores as they are alone.
      expect(alone.results[0]![0]!.label).toBe(body.results[i]![0]!.label);
      expect(Math.abs(alone.results[0]![0]!.score - body.results[i]![0]!.score)).toBeLessThan(1e-5);
    }
  });

  it.each<[string, () => Promise<Response>, number, (body: any) => void]>([
    ['the Hugging Face route', () => postJson('/models/sentiment', { inputs: 'I loved every minute of it', parameters: { top_k: 1 } }), 200,
      (body) => expect(body[0]).toEqual([{ label: 'POSITIVE', score: expect.any(Number) }])],
    ['the model list', () => call('/v1/models'), 200, (body) => expect(body.data.map((m: { id: string }) => m.id)).toContain('sst2-bert@3')],
    ['an unknown model', () => postJson('/v1/classify', { model: 'nope', input: 'x' }), 404, (body) => expect(body.error.message).toMatch(/sst2-bert/)],
    ['malformed JSON', () => call('/v1/classify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input": ' }), 400,
      (body) => expect(body.error.type).toBe('invalid_request_error')],
    ['a wrong method', () => call('/v1/classify'), 405, (body) => expect(body.error.message).toMatch(/GET is not allowed/)],
    ['the health check', () => call('/healthz'), 200, (body) => expect(body).toEqual({ status: 'ok' })],
    ['the OpenAPI document', () => call('/openapi.json'), 200, (body) => expect(body.openapi).toMatch(/^3\./)],
  ])('answers %s as in Node', async (_name, send, status, check) => {
    const res = await send();
    expect(res.status).toBe(status);
    check(await res.json());
  });

  it('needs a key, and meters each request into D1 with the same schema as SQLite', async () => {
    const anonymous = await exports.default.fetch(new Request('http://edge.test/v1/models'));
    expect(anonymous.status).toBe(401);
    const keyId = await keyIdOf(key);
    const before = await meteredUsage(keyId);
    const answered = await postJson('/v1/classify', { input: 'metered at the edge' }, { 'x-request-id': 'edge-metered-1' });
    expect(answered.status).toBe(200);
    expect(answered.headers.get('x-ratelimit-limit-requests')).toBe('1000');
    // Counted by the key's object and written as a roll-up by its alarm (usage-rollups.test.ts), in the SQLite schema.
    const tokens = await inputTokens(answered);
    expect(await meteredAfter(keyId, before)).toEqual({ requests: 1, inputTokens: tokens, outputTokens: 0, costMicroUsd: expect.closeTo(priceOf(price, tokens, 0), 6) });
    const row = (await DB.prepare("SELECT * FROM usage WHERE key_id = ? AND route = 'POST /v1/classify' ORDER BY id DESC").bind(keyId).all<Record<string, unknown>>()).results[0];
    expect(row).toMatchObject({ tenant_id: 'edge', model: 'sst2-glove-bilstm', path: 'edge', status: 200, route: 'POST /v1/classify', request_id: 'roll-up' });
  });

  it('reports exactly the requests a fresh tenant made', async () => {
    expect((await postJson('/admin/tenants', { id: 'edge_report' }, ADMIN)).status).toBe(201);
    const { key: own } = (await (await postJson('/admin/keys', { tenant: 'edge_report', rpm: 1000 }, ADMIN)).json()) as { key: string };
    const mine = { authorization: `Bearer ${own}` };
    let cost = 0;
    for (const input of ['one text', ['two', 'texts']]) {
      const answer = await postJson('/v1/classify', { input }, mine);
      expect(answer.status).toBe(200);
      cost += priceOf(price, await inputTokens(answer), 0);
    }
    const report = () => call('/v1/usage?group_by=model', { headers: mine }).then((r) => r.json() as Promise<{ tenant: string; data: { model: string; requests: number }[] }>);
    // Usage is written after each response (ctx.waitUntil): wait for both rows, then the count is exact.
    const usage = await eventually(report, (u) => (u.data.find((d) => d.model === 'sst2-glove-bilstm@2')?.requests ?? 0) >= 2);
    expect(usage.tenant).toBe('edge_report');
    expect(usage.data.find((d) => d.model === 'sst2-glove-bilstm@2')).toMatchObject({ requests: 2, cost_micro_usd: expect.closeTo(cost, 6) });
  });

  it('limits a key exactly through its Durable Object: 429 with the limit headers past its requests per minute', async () => {
    const created = await postJson('/admin/keys', { tenant: 'edge', rpm: 3 }, ADMIN);
    const { key: limited, id } = (await created.json()) as { key: string; id: string };
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await exports.default.fetch(new Request('http://edge.test/v1/models', { headers: { authorization: `Bearer ${limited}` } }));
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(last!.headers.get('ratelimit-policy')).toMatch(/"requests";q=3;w=60/);
    // The buckets live in the key's Durable Object, not in this isolate: asking it directly finds them spent.
    const namespace = (env as { RATE_LIMITER: { idFromName(n: string): unknown; get(id: unknown): { fetch(r: Request): Promise<Response> } } }).RATE_LIMITER;
    const direct = await namespace.get(namespace.idFromName(id)).fetch(new Request('https://limiter.internal/', { method: 'POST', body: JSON.stringify({ op: 'take', key: id, limits: { rpm: 3, tpm: 1_000_000 } }) }));
    expect(((await direct.json()) as { allowed: boolean }).allowed).toBe(false);
  });
});
