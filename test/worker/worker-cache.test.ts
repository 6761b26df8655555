// Runs inside workerd: the Worker's app with its classification cache on the real Cache API (caches.default),
// the bundled model on onnxruntime-web and billing on D1, as functions/worker/index.ts builds it with
// CLASSIFY_CACHE = "on". The put runs after the answer (ctx.waitUntil); the test waits for it as workerd would.
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { classificationKey } from '../../functions/app/classification-cache.js';
import { createApp } from '../../functions/app/create-app.js';
import { billingPlugin } from '../../functions/billing/billing-plugin.js';
import { CACHE_PATH, CacheApiClassificationCache, defaultCache, workerClassificationCache } from '../../functions/worker/cache-api-classification-cache.js';
import { edgeEngines, workerRegistry } from '../../functions/worker/edge-models.js';
import { workerBilling } from '../../functions/worker/worker-billing.js';
import type { Env } from '../../functions/worker/worker-env.js';
import { priceOf } from '../billing/prices.js';
import { keyIdOf, meteredAfter, meteredUsage } from './key-usage.js';

const workerEnv = env as Env;
const ADMIN = { authorization: 'Bearer worker-test-admin' };
const registry = workerRegistry(workerEnv);
const price = registry.resolve('sentiment')!.price;
let app: ReturnType<typeof createApp>;
let key = '';
let requests = 0;

async function call(path: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${key}` }) {
  const keyId = headers.authorization === `Bearer ${key}` && key ? await keyIdOf(key) : null;
  const before = keyId ? await meteredUsage(keyId) : null;
  const ctx = createExecutionContext();
  const requestId = `worker-cache-${++requests}`;
  const response = await app.fetch(new Request(`http://edge.test${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...headers }, body: JSON.stringify(body),
  }), workerEnv, ctx);
  const answer = { status: response.status, cache: response.headers.get('x-cache'), body: (await response.json()) as any, requestId, cost: NaN };
  await waitOnExecutionContext(ctx);
  if (keyId && before) answer.cost = (await meteredAfter(keyId, before)).costMicroUsd;
  return answer;
}

/** What the request was billed: the change in its key's metered cost around it (the call waits for its waitUntil). */
const costOf = (answer: { cost: number }) => answer.cost;

beforeAll(async () => {
  const cache = workerClassificationCache({ CLASSIFY_CACHE: 'on' });
  expect(cache).toBeInstanceOf(CacheApiClassificationCache);
  app = createApp({
    registry, engines: (await edgeEngines(workerEnv, registry))['text-classification'], isReady: () => true,
    plugins: [billingPlugin({ billing: workerBilling(workerEnv)!, adminToken: 'worker-test-admin' })],
    classificationCache: cache!,
  });
  expect((await call('/admin/tenants', { id: 'edge-cache', stripe_customer_id: 'cus_edge_cache' }, ADMIN)).status).toBe(201);
  const created = await call('/admin/keys', { tenant: 'edge-cache', rpm: 1000 }, ADMIN);
  expect(created.status).toBe(201);
  key = created.body.key;
});

describe('the classification cache at the edge (Cache API)', () => {
  it('answers a repeated request from caches.default, billed at the cache price', async () => {
    const body = { input: ['a gorgeous, witty, seductive movie', 'a dull, pointless mess'], top_k: 1 };
    const miss = await call('/v1/classify', body);
    expect(miss.status).toBe(200);
    expect(miss.cache).toBe('miss');
    const hit = await call('/v1/classify', body);
    expect(hit.cache).toBe('hit');
    expect(hit.body).toEqual(miss.body);
    expect(await costOf(miss)).toBeCloseTo(priceOf(price, miss.body.usage.input_tokens, 0), 6);
    expect(await costOf(hit)).toBe(price.cacheRequestMicroUsd);
  });

  it('keys parameters apart, bypasses for cache: false, and refuses a non-boolean cache', async () => {
    const text = 'the acting is superb';
    expect((await call('/v1/classify', { input: text })).cache).toBe('miss');
    expect((await call('/models/sentiment', { inputs: text, parameters: { function_to_apply: 'sigmoid' } })).cache).toBe('miss');
    expect((await call('/models/sentiment', { inputs: text, parameters: { function_to_apply: 'sigmoid' } })).cache).toBe('hit');
    const bypassed = await call('/v1/classify', { input: text, cache: false });
    expect(bypassed.cache).toBe('bypass');
    expect(await costOf(bypassed)).toBeCloseTo(priceOf(price, bypassed.body.usage.input_tokens, 0), 6);
    const explained = await call('/v1/classify', { input: text, explain: true });
    expect(explained.cache).toBe('miss');
    const again = await call('/v1/classify', { input: text, explain: true });
    expect(again.cache).toBe('hit');
    expect(again.body).toEqual(explained.body);
    expect(again.body.results[0][0].explanation.words.map((w: { text: string }) => w.text)).toEqual(['the', 'acting', 'is', 'superb']);
    // What caches.default holds under the hash of the request has the answer's offsets, not the caller's words.
    const model = registry.resolve('sentiment')!;
    const key = await classificationKey({
      model: `${model.id}@${model.version}`, weights: model.files[model.onnx!]!, scope: 'tenant:edge-cache', texts: [text], topK: 2, scoreFunction: 'softmax', explain: { method: 'occlusion', labels: 'top' },
    });
    const stored = await defaultCache()!.match(new Request(`http://edge.test${CACHE_PATH}${key}`));
    expect(stored).toBeDefined();
    const kept = await stored!.text();
    expect(kept).toMatch(/"start":/);
    expect(kept).not.toMatch(/acting|superb/);
    const bad = await call('/v1/classify', { input: text, cache: 'off' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/cache.*true or false/);
  });

  it('is off unless CLASSIFY_CACHE is "on", and refuses another value', () => {
    expect(workerClassificationCache({})).toBeNull();
    expect(workerClassificationCache({ CLASSIFY_CACHE: 'off' })).toBeNull();
    expect(() => workerClassificationCache({ CLASSIFY_CACHE: 'yes' })).toThrow(/CLASSIFY_CACHE must be "on" or "off"/);
    expect(() => workerClassificationCache({ CLASSIFY_CACHE: 'on', CLASSIFY_CACHE_TTL_SECONDS: '0' })).toThrow(/positive integer/);
  });
});
