// Runs inside workerd: the Worker's GET /metrics, one isolate's counts (labelled with it), parsed by a Prometheus
// text parser; its counters move by exactly the requests sent; the admin token guards it (no METRICS_TOKEN here).
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { scrapeOf, type Scrape } from '../observability/scrape.js';

const ADMIN = { authorization: 'Bearer worker-test-admin' };
let key = '';

const call = (path: string, init: RequestInit = {}) => exports.default.fetch(new Request(`http://edge.test${path}`, init));
const postJson = (path: string, body: unknown, headers: Record<string, string>) =>
  call(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const metrics = async () => scrapeOf(await call('/metrics', { headers: ADMIN }));

beforeAll(async () => {
  expect((await postJson('/admin/tenants', { id: 'edgemetrics', stripe_customer_id: 'cus_edgemetrics' }, ADMIN)).status).toBe(201);
  const created = await postJson('/admin/keys', { tenant: 'edgemetrics', rpm: 1000 }, ADMIN);
  expect(created.status).toBe(201);
  key = ((await created.json()) as { key: string }).key;
});

describe('GET /metrics in the Worker', () => {
  it('refuses a scrape without the admin token with a 401 JSON error', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-the-token' }] as Record<string, string>[]) {
      const res = await call('/metrics', { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { type: 'authentication_error', code: 'invalid_metrics_token' } });
    }
  });

  it('counts what this isolate answered, by route, model, version and status', async () => {
    const before = await metrics();
    const isolate = before.samples('edge_maas_http_requests_total')[0]!.labels.isolate!;
    expect(isolate).toMatch(/^[0-9a-f]{8}$/);
    const auth = { authorization: `Bearer ${key}` };
    let inputTokens = 0;
    for (const input of ['a gorgeous, witty movie', ['dull', 'superb acting'], 'a pointless mess']) {
      const res = await postJson('/v1/classify', { input }, auth);
      expect(res.status).toBe(200);
      inputTokens += ((await res.json()) as { usage: { input_tokens: number } }).usage.input_tokens;
    }
    expect((await postJson('/v1/classify', { input: [] }, auth)).status).toBe(400);
    expect((await postJson('/v1/classify', { input: 'no key' }, {})).status).toBe(401);
    const after = await metrics();
    const delta = (s: Scrape, name: string, labels: Record<string, string>) => s.value(name, { isolate, ...labels });
    const moved = (name: string, labels: Record<string, string>) => delta(after, name, labels) - delta(before, name, labels);
    const ok = { method: 'POST', route: '/v1/classify', model: 'sst2-glove-bilstm', version: '2', status: '200' };
    expect(moved('edge_maas_http_requests_total', ok)).toBe(3);
    expect(moved('edge_maas_http_requests_total', { ...ok, model: '', version: '', status: '400' })).toBe(1);
    expect(moved('edge_maas_http_requests_total', { ...ok, model: '', version: '', status: '401' })).toBe(1);
    expect(moved('edge_maas_http_request_duration_seconds', { route: '/v1/classify', model: 'sst2-glove-bilstm' })).toBe(3);
    expect(moved('edge_maas_input_tokens_total', { model: 'sst2-glove-bilstm', version: '2' })).toBe(inputTokens);
    expect(moved('edge_maas_classify_queue_wait_seconds', { model: 'sst2-glove-bilstm@2' })).toBe(3);
    expect(moved('edge_maas_http_requests_total', { method: 'GET', route: '/metrics', model: '', version: '', status: '200' })).toBe(1);
  });
});
