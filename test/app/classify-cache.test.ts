// The exact-match classification cache over HTTP: the real Node server on 127.0.0.1 in keys mode (SQLite usage),
// the real default model, its cache in memory bounded to 3 answers. A repeated request is answered from the cache
// with the same answer, marked X-Cache: hit, billed at the registry's cache price and without running the model;
// `cache: false` bypasses it; parameters and tenants key it apart; the bound evicts the least recently used.
import { beforeAll, describe, expect, it } from 'vitest';
import { classificationKey } from '../../functions/app/classification-cache.js';
import { MemoryClassificationCache } from '../../functions/node/memory-classification-cache.js';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import type { Price } from '../../functions/registry/registry.js';
import { useKeysServer } from '../billing/helpers.js';
import { priceOf } from '../billing/prices.js';
import { sqliteRows } from '../billing/sqlite-rows.js';
import { eventually } from '../helpers/eventually.js';
import { jsonl, sst2Lines } from '../tuning/routes-server.js';

let batches = 0;
const ctx = useKeysServer({ generation: false, fineTuning: { concurrency: 1 }, classifyCache: { maxEntries: 3 }, onClassifyBatch: () => void batches++ });
const keys = {} as Record<'acme' | 'acme2' | 'globex', string>;
let price: Price;
let requests = 0;

beforeAll(async () => {
  keys.acme = (await ctx.admin.key('acme')).key;
  keys.acme2 = (await ctx.admin.key('acme')).key;
  keys.globex = (await ctx.admin.key('globex')).key;
  price = (await readLocalRegistry()).resolve('sst2-bert')!.price;
});

async function post(path: string, body: unknown, key = keys.acme) {
  const requestId = `cache-test-${++requests}`;
  const res = await fetch(`${ctx.server.url}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-request-id': requestId }, body: JSON.stringify(body),
  });
  return { status: res.status, cache: res.headers.get('x-cache'), body: await res.json(), requestId };
}
const classify = (body: unknown, key?: string) => post('/v1/classify', body, key);

/** The usage record of a request, as the SQLite file holds it once the writer has flushed. */
const usageOf = async (requestId: string): Promise<Record<string, any>> => (await eventually(
  () => sqliteRows(ctx.db.path, 'SELECT tenant_id, input_tokens, cost_micro_usd, compute_ms, status FROM usage WHERE request_id = ?', requestId)[0],
  (row) => row !== undefined,
))!;

describe('the classification cache', () => {
  it('answers a repeated request from the cache: the same answer, X-Cache: hit, the cache price, no model run', async () => {
    const body = { input: ['a gorgeous, witty, seductive movie', 'a dull, pointless mess'] };
    const miss = await classify(body);
    expect(miss.status).toBe(200);
    expect(miss.cache).toBe('miss');
    const ran = batches;
    const hit = await classify(body);
    expect(hit.status).toBe(200);
    expect(hit.cache).toBe('hit');
    expect(hit.body).toEqual(miss.body);
    expect(batches).toBe(ran);

    expect(price.cacheRequestMicroUsd).toBe(2);
    const missed = await usageOf(miss.requestId);
    expect(missed.cost_micro_usd).toBeCloseTo(priceOf(price, miss.body.usage.input_tokens, 0), 6);
    const hitUsage = await usageOf(hit.requestId);
    expect(hitUsage).toMatchObject({ tenant_id: 'acme', input_tokens: miss.body.usage.input_tokens, cost_micro_usd: 2, compute_ms: 0, status: 200 });
  });

  it('skips the cache for `cache: false`, running the model and leaving the cache as it was', async () => {
    const ran = batches;
    const bypassed = await classify({ input: 'the acting is superb', cache: false });
    expect(bypassed.status).toBe(200);
    expect(bypassed.cache).toBe('bypass');
    expect(batches).toBe(ran + 1);
    expect((await usageOf(bypassed.requestId)).cost_micro_usd).toBeCloseTo(priceOf(price, bypassed.body.usage.input_tokens, 0), 6);
    // Nothing was stored: the same text asked normally is a miss, then a hit.
    expect((await classify({ input: 'the acting is superb' })).cache).toBe('miss');
    const hit = await classify({ input: 'the acting is superb' });
    expect(hit.cache).toBe('hit');
    expect(hit.body).toEqual(bypassed.body);
  });

  it('keys every parameter that changes the answer apart: top_k, the score function, explain', async () => {
    const text = 'an uneven but often funny picture';
    expect((await classify({ input: text })).cache).toBe('miss');
    expect((await classify({ input: text, top_k: 1 })).cache).toBe('miss');
    const topOne = await classify({ input: text, top_k: 1 });
    expect(topOne.cache).toBe('hit');
    expect(topOne.body.results[0]).toHaveLength(1);
    // The Hugging Face route answers the same ranked lists; with sigmoid scores the answer is another.
    expect((await post('/models/sentiment', { inputs: text, parameters: { top_k: 1, function_to_apply: 'sigmoid' } })).cache).toBe('miss');
    const sigmoid = await post('/models/sentiment', { inputs: text, parameters: { top_k: 1, function_to_apply: 'sigmoid' } });
    expect(sigmoid.cache).toBe('hit');
    expect(sigmoid.body[0][0].score).not.toBeCloseTo(topOne.body.results[0][0].score, 6);

    // An explanation is cached without the caller's words and read back from the text: the same answer.
    const explainedMiss = await classify({ input: text, explain: true });
    expect(explainedMiss.cache).toBe('miss');
    const explainedHit = await classify({ input: text, explain: true });
    expect(explainedHit.cache).toBe('hit');
    expect(explainedHit.body).toEqual(explainedMiss.body);
    expect(explainedHit.body.results[0][0].explanation.words.map((w: { text: string }) => w.text).join(' ')).toBe(text);
    expect((await usageOf(explainedHit.requestId)).cost_micro_usd).toBe(2);
  });

  it('keeps at most its bound of answers, dropping the least recently used', async () => {
    const texts = ['one fine film', 'two dull hours', 'three good actors', 'four bad jokes'];
    for (const input of texts) expect((await classify({ input })).cache).toBe('miss');
    // Bounded to 3: the first of the four was dropped, the last three are kept.
    expect((await classify({ input: texts[3] })).cache).toBe('hit');
    expect((await classify({ input: texts[1] })).cache).toBe('hit');
    expect((await classify({ input: texts[0] })).cache).toBe('miss');
    expect(ctx.server.classificationCache!.size.entries).toBe(3);
  });

  it("shares a registry model's answers within a tenant only: a hit never tells one tenant what another sent", async () => {
    const text = 'a film for the whole family';
    expect((await classify({ input: text }, keys.acme)).cache).toBe('miss');
    const sameTenant = await classify({ input: text }, keys.acme2);
    expect(sameTenant.cache).toBe('hit');
    expect(await usageOf(sameTenant.requestId)).toMatchObject({ tenant_id: 'acme', cost_micro_usd: 2 });
    const other = await classify({ input: text }, keys.globex);
    expect(other.cache).toBe('miss');
    expect((await classify({ input: text }, keys.globex)).cache).toBe('hit');
  });

  it('refuses a `cache` that is not a boolean with a 400 naming it, on both routes', async () => {
    const bad = await classify({ input: 'a fine film', cache: 'no' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ type: 'invalid_request_error' });
    expect(bad.body.error.message).toMatch(/cache/);
    expect(bad.body.error.message).toMatch(/true or false/);
    const hf = await post('/models/sentiment', { inputs: 'a fine film', cache: 1 });
    expect(hf.status).toBe(400);
    expect(hf.body.error.message).toMatch(/cache/);
  });
});

describe("a tenant's fine-tuned model", () => {
  let model: string;
  beforeAll(async () => {
    const form = new FormData();
    form.append('purpose', 'fine-tune');
    form.append('file', new Blob([jsonl(await sst2Lines(64)) as BlobPart]), 'sst2-64.jsonl');
    const uploaded = await fetch(`${ctx.server.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${keys.acme}` }, body: form });
    const file = (await uploaded.json()) as { id: string };
    expect(uploaded.status, JSON.stringify(file)).toBe(200);
    const get = async (path: string) => (await fetch(`${ctx.server.url}${path}`, { headers: { authorization: `Bearer ${keys.acme}` } })).json();
    let job = (await post('/v1/fine_tuning/jobs', { model: 'electra-imdb-small', training_file: file.id, suffix: 'cache', seed: 3, hyperparameters: { n_epochs: 2 } })).body;
    job = await eventually(() => get(`/v1/fine_tuning/jobs/${job.id}`), (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status), 90_000, 250);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    model = job.fine_tuned_model;
  }, 120_000);

  it("is cached for its owner's keys and never answers another tenant from the cache", async () => {
    const body = () => ({ model, input: 'a gorgeous, witty, seductive movie' });
    const miss = await classify(body(), keys.acme);
    expect(miss.status).toBe(200);
    expect(miss.cache).toBe('miss');
    const hit = await classify(body(), keys.acme2);
    expect(hit.cache).toBe('hit');
    expect(hit.body).toEqual(miss.body);
    const other = await classify(body(), keys.globex);
    expect(other.status).toBe(404);
    expect(other.cache).toBeNull();
  });
});

describe('the cache key and store', () => {
  const parts = { model: 'sst2-bert@3', weights: null, scope: 'shared', texts: ['a fine film'], topK: 2, scoreFunction: 'softmax', explain: null };

  it('is a SHA-256 of everything that decides the answer, the tenant of a fine-tuned model included', async () => {
    const key = await classificationKey(parts);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(await classificationKey({ ...parts })).toBe(key);
    const variants = [
      { scope: 'tenant:acme:1' }, { scope: 'tenant:globex:1' }, { texts: ['a fine film '] }, { texts: ['a fine', 'film'] },
      { topK: 1 }, { scoreFunction: 'sigmoid' }, { explain: { method: 'occlusion', labels: 'top' } }, { model: 'sst2-bert@2' }, { weights: 'ab'.repeat(32) },
    ];
    const keys = await Promise.all(variants.map((v) => classificationKey({ ...parts, ...v })));
    expect(new Set([key, ...keys]).size).toBe(variants.length + 1);
  });

  it('bounds its bytes as well as its entries', async () => {
    const answer = { results: [[{ label: 'POSITIVE', score: 0.9 }, { label: 'NEGATIVE', score: 0.1 }]], truncated: [false], inputTokens: 5 };
    const bytes = 64 + JSON.stringify(answer).length;
    const cache = new MemoryClassificationCache({ maxEntries: 100, maxBytes: bytes * 2 });
    for (const key of ['a', 'b', 'c'].map((k) => k.repeat(64))) await cache.put(key, answer);
    expect(cache.size).toEqual({ entries: 2, bytes: bytes * 2 });
    expect(await cache.get('a'.repeat(64))).toBeUndefined();
    expect(await cache.get('c'.repeat(64))).toEqual(answer);
  });
});
