// Leftovers of the last hostile test, over HTTP on the real Node server (127.0.0.1, the real default model, its
// classification cache in memory as CLASSIFY_CACHE=on makes it): a text the model reads no token of is a 400 naming
// it on both classification routes, not a confident label; the Hugging Face route honours every cache opt-out its
// clients send; GET /v1/models shows the cache price where the registry has one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';

let server: RunningServer;
/** Batches the classifier ran: a refused or cached request runs none. */
let batches = 0;
beforeAll(async () => {
  server = await startServer({ port: 0, generation: false, fineTuning: false, billing: false, classifyCache: { maxEntries: 100, maxBytes: 1 << 20 }, onClassifyBatch: () => void batches++ });
  await server.allModelsLoaded(); // their warm-ups are batches too: none may land in a test's count
});
afterAll(() => server.close());

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, cache: res.headers.get('x-cache'), body: await res.json() };
}

describe('a text that normalises to no tokens', () => {
  // BERT's normaliser drops control and format characters (zero-width space, joiner, BOM, bidi marks) and, stripping
  // accents, combining marks; whatever is left of these is whitespace. trim() keeps all of them but U+FEFF.
  const unread = ['\u200b\u200b', '\u0001\u0002\u0003', '\u0301\u0308', '\u200d \u200c\t\u2060', '\u202e\u00ad', '\u0007 \u200b \u0301'];

  it('is a 400 naming its field on /v1/classify, alone or in a batch, and runs nothing', async () => {
    const ran = batches;
    for (const text of unread) {
      const alone = await post('/v1/classify', { input: text });
      expect(alone.status, JSON.stringify(text)).toBe(400);
      expect(alone.body.error).toMatchObject({ type: 'invalid_request_error', param: 'input' });
      expect(alone.body.error.message).toMatch(/^"input" has no tokens/);
    }
    const batch = await post('/v1/classify', { input: ['a fine film', 'dull', 'witty', unread[0], 'warm'] });
    expect(batch.status).toBe(400);
    expect(batch.body.error).toMatchObject({ param: 'input[3]', message: expect.stringMatching(/^input\[3\] has no tokens/) });
    const explained = await post('/v1/classify', { input: unread[2], explain: true });
    expect(explained.status).toBe(400);
    expect(explained.body.error.param).toBe('input');
    expect(batches).toBe(ran);
  });

  it('is a 400 naming its field on the Hugging Face route too', async () => {
    const ran = batches;
    const alone = await post('/models/sentiment', { inputs: unread[1] });
    expect(alone.status).toBe(400);
    expect(alone.body.error).toMatchObject({ type: 'invalid_request_error', param: 'inputs', message: expect.stringMatching(/^"inputs" has no tokens/) });
    const batch = await post('/models/sst2-bert@3', { inputs: ['good', 'bad', 'fine', unread[3]], parameters: { top_k: 1 } });
    expect(batch.status).toBe(400);
    expect(batch.body.error.param).toBe('inputs[3]');
    expect(batches).toBe(ran);
  });

  it('still classifies a text with one character the model reads among them (an emoji reads as [UNK], a token)', async () => {
    const wrapped = await post('/v1/classify', { input: ['\u200bwonderful\u200b', '\u0001😀'] });
    expect(wrapped.status, JSON.stringify(wrapped.body)).toBe(200);
    expect(wrapped.body.results[0][0].label).toBe('POSITIVE');
    expect(wrapped.body.usage.input_tokens).toBeGreaterThanOrEqual(6); // [CLS] x [SEP] twice, at least
    expect((await post('/models/sentiment', { inputs: '\u200bwonderful' })).status).toBe(200);
  });
});

describe('the Hugging Face route and the classification cache', () => {
  /** The opt-out is honoured: the model runs, the answer says bypass, and nothing is stored (the next plain request misses). */
  async function expectBypass(text: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
    const ran = batches;
    const bypassed = await post('/models/sentiment', { inputs: text, ...body }, headers);
    expect(bypassed.status, JSON.stringify(bypassed.body)).toBe(200);
    expect(bypassed.cache).toBe('bypass');
    expect(batches).toBe(ran + 1);
    const again = await post('/models/sentiment', { inputs: text, ...body }, headers);
    expect(again.cache).toBe('bypass');
    expect(again.body).toEqual(bypassed.body);
    expect((await post('/models/sentiment', { inputs: text })).cache).toBe('miss');
    expect((await post('/models/sentiment', { inputs: text })).cache).toBe('hit');
  }

  it('answers a repeated request from the cache by default', async () => {
    expect((await post('/models/sentiment', { inputs: 'a quiet, lovely film' })).cache).toBe('miss');
    const ran = batches;
    expect((await post('/models/sentiment', { inputs: 'a quiet, lovely film' })).cache).toBe('hit');
    expect(batches).toBe(ran);
  });

  it('skips it for parameters.cache: false, as /v1/classify does for cache: false', () => expectBypass('an honest, moving story', { parameters: { cache: false } }));
  it("skips it for the Inference API's legacy options.use_cache: false", () => expectBypass('a tired, lazy sequel', { options: { use_cache: false, wait_for_model: true } }));
  it("skips it for the Inference API's x-use-cache: false header, in any case", async () => {
    await expectBypass('the jokes never land', {}, { 'x-use-cache': 'false' });
    await expectBypass('the cast is superb', {}, { 'x-use-cache': 'FALSE' });
  });

  it('keeps using it for x-use-cache: true, and any one opt-out wins over the others', async () => {
    const text = 'a bright, clever comedy';
    expect((await post('/models/sentiment', { inputs: text }, { 'x-use-cache': 'true' })).cache).toBe('miss');
    expect((await post('/models/sentiment', { inputs: text }, { 'x-use-cache': 'true' })).cache).toBe('hit');
    expect((await post('/models/sentiment', { inputs: text, options: { use_cache: true } }, { 'x-use-cache': 'false' })).cache).toBe('bypass');
    expect((await post('/models/sentiment', { inputs: text, parameters: { cache: false } }, { 'x-use-cache': 'true' })).cache).toBe('bypass');
  });

  it('refuses an opt-out that is not a boolean with a 400 naming it', async () => {
    const header = await post('/models/sentiment', { inputs: 'fine' }, { 'x-use-cache': 'nope' });
    expect(header.status).toBe(400);
    expect(header.body.error).toMatchObject({ param: 'x-use-cache', message: expect.stringMatching(/true or false/) });
    const option = await post('/models/sentiment', { inputs: 'fine', options: { use_cache: 'no' } });
    expect(option.status).toBe(400);
    expect(option.body.error.param).toBe('options.use_cache');
    const parameter = await post('/models/sentiment', { inputs: 'fine', parameters: { cache: 0 } });
    expect(parameter.status).toBe(400);
    expect(parameter.body.error.param).toBe('parameters.cache');
  });
});

describe('GET /v1/models', () => {
  it("shows each model's cache price where the registry has one, and the OpenAPI document declares it", async () => {
    const registry = await readLocalRegistry();
    const { data } = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string; price: Record<string, number> }[] };
    const cached = registry.models.filter((m) => m.price.cacheRequestMicroUsd !== undefined);
    expect(cached.length).toBeGreaterThan(0);
    for (const model of registry.models) {
      const card = data.find((d) => d.id === `${model.id}@${model.version}`)!;
      if (model.price.cacheRequestMicroUsd === undefined) expect(card.price).not.toHaveProperty('cache_request_micro_usd');
      else expect(card.price.cache_request_micro_usd).toBe(model.price.cacheRequestMicroUsd);
    }
    const one = (await (await fetch(`${server.url}/v1/models/sentiment`)).json()) as { price: Record<string, number> };
    expect(one.price.cache_request_micro_usd).toBe(registry.resolve('sentiment')!.price.cacheRequestMicroUsd);
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { components: { schemas: Record<string, any> } };
    expect(Object.keys(doc.components.schemas.Model.properties.price.properties)).toContain('cache_request_micro_usd');
  });
});

describe('an option /v1/classify does not have', () => {
  it('is a 400 that names it and the fields there are, not an answer computed without it', async () => {
    const ran = batches;
    for (const extra of [{ function_to_apply: 'sigmoid' }, { topk: 1 }, { inputs: 'x' }]) {
      const refused = await post('/v1/classify', { input: 'a fine film', ...extra });
      expect(refused.status, JSON.stringify(extra)).toBe(400);
      expect(refused.body.error.type).toBe('invalid_request_error');
      expect(refused.body.error.message).toContain(JSON.stringify(Object.keys(extra)[0]));
      expect(refused.body.error.message).toMatch(/model, input, top_k, explain and cache/);
    }
    expect(batches).toBe(ran);
    expect((await post('/v1/classify', { model: 'sentiment', input: 'a fine film', top_k: 1, explain: false, cache: false })).status).toBe(200);
  });
});
