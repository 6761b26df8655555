// Runs inside workerd: the Worker's app (the bundled model on onnxruntime-web, its classification cache on the real
// Cache API) answers as the Node server does (test/app/classification-hardening.test.ts): a text that normalises to
// no tokens is a 400 naming it on both classification routes, and the Hugging Face route's x-use-cache: false skips
// the cache.
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app/create-app.js';
import { workerClassificationCache } from '../../functions/worker/cache-api-classification-cache.js';
import { edgeEngines, workerRegistry } from '../../functions/worker/edge-models.js';
import type { Env } from '../../functions/worker/worker-env.js';

const workerEnv = env as Env;
let app: ReturnType<typeof createApp>;

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`http://edge.test${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  }), workerEnv, ctx);
  const answer = { status: response.status, cache: response.headers.get('x-cache'), body: (await response.json()) as any };
  await waitOnExecutionContext(ctx);
  return answer;
}

beforeAll(async () => {
  const registry = workerRegistry(workerEnv);
  app = createApp({
    registry, engines: (await edgeEngines(workerEnv, registry))['text-classification'], isReady: () => true,
    classificationCache: workerClassificationCache({ CLASSIFY_CACHE: 'on' })!,
  });
});

describe('the Worker', () => {
  it('answers a text of zero-width and control characters with a 400 naming it, on /v1/classify and POST /models/:id', async () => {
    const classify = await post('/v1/classify', { input: ['a fine film', 'dull', 'warm', '\u200b\u0001\u200d'] });
    expect(classify.status).toBe(400);
    expect(classify.body.error).toMatchObject({ type: 'invalid_request_error', param: 'input[3]' });
    const hf = await post('/models/sentiment', { inputs: '\u2060\u0301' });
    expect(hf.status).toBe(400);
    expect(hf.body.error.param).toBe('inputs');
    expect((await post('/v1/classify', { input: '\u200bwonderful' })).status).toBe(200);
  });

  it('skips the cache on the Hugging Face route for x-use-cache: false and options.use_cache: false', async () => {
    const text = 'a warm, generous film about an old dog';
    expect((await post('/models/sentiment', { inputs: text }, { 'x-use-cache': 'false' })).cache).toBe('bypass');
    expect((await post('/models/sentiment', { inputs: text, options: { use_cache: false } })).cache).toBe('bypass');
    expect((await post('/models/sentiment', { inputs: text })).cache).toBe('miss');
    expect((await post('/models/sentiment', { inputs: text })).cache).toBe('hit');
    expect((await post('/models/sentiment', { inputs: text, parameters: { cache: false } })).cache).toBe('bypass');
  });
});
