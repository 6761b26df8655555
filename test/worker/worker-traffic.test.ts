// Traffic routes inside workerd with D1 (migrations/0008): a route set through the admin API decides which bundled
// version answers a key (header and body name it), a route written straight into D1 (as another isolate would)
// is seen within the 5 s cache, a bad route is a 400 that leaves the route in force, and a shadow's comparisons are
// counted without its answer being returned. (The 10,000-request split and billing checks: test/traffic/.)
import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { D1Database } from '../../functions/worker/d1-database.js';
import { eventually } from '../helpers/eventually.js';
import { keyIdOf, meteredAfter, meteredUsage } from './key-usage.js';

const DB = (env as { DB: D1Database }).DB;
const ADMIN = { authorization: 'Bearer worker-test-admin' };
const BILSTM = 'sst2-glove-bilstm@2';
const BERT = 'sst2-bert@3';

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  exports.default.fetch(new Request(`http://edge.test${path}`, {
    method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body),
  }));

let key = '';
beforeAll(async () => {
  expect((await call('POST', '/admin/tenants', { id: 'edge_traffic' }, ADMIN)).status).toBe(201);
  key = ((await (await call('POST', '/admin/keys', { tenant: 'edge_traffic', rpm: 10_000 }, ADMIN)).json()) as { key: string }).key;
});

async function classify(input: string | string[] = 'a witty, gorgeous film') {
  const res = await call('POST', '/v1/classify', { input }, { authorization: `Bearer ${key}` });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { model: string; results: { label: string; score: number }[][] };
  expect(res.headers.get('x-edge-maas-model-version')).toBe(body.model);
  return body;
}

describe('traffic routes in the Worker', () => {
  it('answers with the version the route gives the key, and a bad route changes nothing', async () => {
    expect((await classify()).model).toBe(BILSTM);
    const put = await call('PUT', '/admin/routes/sentiment', { weights: { [BERT]: 100 } }, ADMIN);
    expect(put.status).toBe(200);
    expect((await classify()).model).toBe(BERT);
    const bad = await call('PUT', '/admin/routes/sentiment', { weights: { [BILSTM]: 70, [BERT]: 20 } }, ADMIN);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('weights');
    expect((await classify()).model).toBe(BERT);
    expect((await call('DELETE', '/admin/routes/sentiment', undefined, ADMIN)).status).toBe(200);
    expect((await classify()).model).toBe(BILSTM);
  });

  it('reads a route written into D1 by another writer within its 5 s cache', async () => {
    expect((await classify()).model).toBe(BILSTM); // the route table is now cached as it was
    await DB.prepare('INSERT INTO model_routes (alias, weights, shadow_model, shadow_percent, updated_at) VALUES (?, ?, NULL, NULL, ?)')
      .bind('sentiment', JSON.stringify([{ model: BERT, weight: 100 }]), Date.now()).run();
    const started = Date.now();
    await eventually(() => classify(), (b) => b.model === BERT, 8_000, 250);
    expect(Date.now() - started).toBeLessThan(7_000);
    expect((await call('DELETE', '/admin/routes/sentiment', undefined, ADMIN)).status).toBe(200);
  });

  it('shows a route naming a version the registry lacks as stale, deletes it once, then 404 no_route', async () => {
    await DB.prepare('INSERT INTO model_routes (alias, weights, shadow_model, shadow_percent, updated_at) VALUES (?, ?, NULL, NULL, ?)')
      .bind('sentiment', JSON.stringify([{ model: 'sst2-bert@9', weight: 100 }]), Date.now()).run();
    const shown = (await (await call('GET', '/admin/routes/sentiment', undefined, ADMIN)).json()) as Record<string, unknown>;
    expect(shown).toMatchObject({ source: 'route', stale: ['sst2-bert@9'], registry_model: BILSTM });
    const all = (await (await call('GET', '/admin/routes', undefined, ADMIN)).json()) as { data: unknown[] };
    expect(all.data).toEqual([shown]);
    expect((await classify()).model).toBe(BILSTM);
    expect((await call('DELETE', '/admin/routes/sentiment', undefined, ADMIN)).status).toBe(200);
    const again = await call('DELETE', '/admin/routes/sentiment', undefined, ADMIN);
    expect([again.status, ((await again.json()) as { error: { code: string } }).error.code]).toEqual([404, 'no_route']);
  });

  it('runs a shadow beside the answer, never billed, and counts its comparisons', async () => {
    const texts = ['a witty, gorgeous film', 'a dull, lifeless mess'];
    const keyId = await keyIdOf(key);
    const beforeDirect = await meteredUsage(keyId);
    const direct = await classify(texts);
    const one = await meteredAfter(keyId, beforeDirect);
    const before = await meteredUsage(keyId);
    expect((await call('PUT', '/admin/routes/sentiment', { weights: { [BILSTM]: 100 }, shadow: { model: BERT, percent: 100 } }, ADMIN)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await classify(texts)).results).toEqual(direct.results);
    const view = await eventually(
      async () => (await (await call('GET', '/admin/routes/sentiment', undefined, ADMIN)).json()) as { shadow_comparisons: { compared: number; skipped: number; shadow_model: string }[] },
      (v) => v.shadow_comparisons[0] !== undefined && v.shadow_comparisons[0].compared + v.shadow_comparisons[0].skipped === 3 * texts.length,
    );
    expect(view.shadow_comparisons[0]).toMatchObject({ model: BILSTM, shadow_model: BERT });
    expect(view.shadow_comparisons[0]!.compared).toBeGreaterThan(0);
    // Read once the shadow runs are done (their comparisons stored): three requests at the BiLSTM's tokens and price, nothing for the transformer's runs.
    const billed = await meteredAfter(keyId, before, 3);
    expect(billed).toEqual({ requests: 3, inputTokens: 3 * one.inputTokens, outputTokens: 0, costMicroUsd: expect.closeTo(3 * one.costMicroUsd, 6) });
  });
});
