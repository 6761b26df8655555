// Inside workerd (vitest.workers-r2.config.mts): a registry model whose files live only in R2 loads through the
// registry's sha256 (503 models_unavailable naming the file while one is missing or wrong), and a streamed
// generation's usage record is written through the request's own ctx.waitUntil. One file: the steps share the
// isolate's app, which is built once its models load.
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { keyIdOf, meteredAfter } from '../key-usage.js';
import worker from '../../../functions/worker/index.js';
import type { Env } from '../../../functions/worker/worker-env.js';
import type { D1Database } from '../../../functions/worker/d1-database.js';
import type { ExecutionContext } from 'hono';
// The real bundle module (the config replaces only the Worker's own './bundled-models.js' import): the files to upload.
import { modelFolders } from '../../../functions/worker/bundled-models.js';

const bindings = env as Env & { MODELS: { put(key: string, value: ArrayBuffer | Uint8Array): Promise<unknown> }; DB: D1Database };
const ADMIN = { authorization: 'Bearer worker-test-admin', 'content-type': 'application/json' };
const files = modelFolders['sst2-bert']!;

const call = (path: string, init: RequestInit = {}) => exports.default.fetch(new Request(`http://edge.test${path}`, init));
const errorOf = async (res: Response) => ((await res.json()) as { error: { message: string; code: string } }).error;

async function newKey(tenant: string): Promise<string> {
  expect((await call('/admin/tenants', { method: 'POST', headers: ADMIN, body: JSON.stringify({ id: tenant }) })).status).toBe(201);
  const created = await call('/admin/keys', { method: 'POST', headers: ADMIN, body: JSON.stringify({ tenant, rpm: 1000 }) });
  expect(created.status).toBe(201);
  return ((await created.json()) as { key: string }).key;
}

describe('a registry model read from R2', () => {
  it('answers 503 models_unavailable naming the file while it is missing from R2', async () => {
    const res = await call('/healthz');
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatchObject({ code: 'models_unavailable', message: expect.stringMatching(/model sst2-r2@1: file config\.json is missing/) });
  });

  it('answers 503 models_unavailable naming the file whose sha256 is not the registry\'s', async () => {
    for (const [path, bytes] of Object.entries(files)) await bindings.MODELS.put(`sst2-r2/${path}`, bytes);
    await bindings.MODELS.put('sst2-r2/tokenizer_config.json', new TextEncoder().encode('{"do_lower_case": false}'));
    const res = await call('/healthz');
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatchObject({ code: 'models_unavailable', message: expect.stringMatching(/model sst2-r2@1: tokenizer_config\.json has sha256 [0-9a-f]{12}…, the registry says b33741c415dd…/) });
  });

  it('loads once its files are right, and classifies as the bundled model does', async () => {
    await bindings.MODELS.put('sst2-r2/tokenizer_config.json', files['tokenizer_config.json']!);
    expect((await call('/healthz')).status).toBe(200);
    const key = await newKey('r2_models');
    const classify = async (model: string) => {
      const res = await call('/v1/classify', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model, input: ['a gorgeous , witty film', 'a dull mess'] }) });
      expect(res.status).toBe(200);
      return (await res.json()) as { model: string; results: { label: string; score: number }[][] };
    };
    const [fromR2, bundled] = [await classify('from-r2'), await classify('sentiment-transformer')];
    expect(fromR2.model).toBe('sst2-r2@1');
    expect(fromR2.results).toEqual(bundled.results);
  });
});

describe('a streamed generation at the edge', () => {
  it('hands its usage record, with the tokens sent, to its key\'s object through its own ctx.waitUntil', async () => {
    const key = await newKey('edge_streams');
    const ctx = createExecutionContext();
    const handedOver: Promise<unknown>[] = [];
    const watched = Object.assign(Object.create(ctx) as ExecutionContext, {
      waitUntil: (work: Promise<unknown>) => {
        handedOver.push(work);
        ctx.waitUntil(work);
      },
      passThroughOnException: () => ctx.passThroughOnException(),
    });
    const res = await worker.fetch(new Request('http://edge.test/v1/chat/completions', {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': 'edge-stream-1' },
      body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true } }),
    }), bindings, watched);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    const sent = text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { usage?: { prompt_tokens: number; completion_tokens: number } | null })
      .findLast((c) => c.usage)!.usage!;
    expect(handedOver.length).toBeGreaterThanOrEqual(1);
    await waitOnExecutionContext(ctx);
    // Counted by the key's object, written to D1 as a roll-up by its alarm (test/worker/usage-rollups.test.ts).
    const keyId = await keyIdOf(key);
    expect(await meteredAfter(keyId, { requests: 0, inputTokens: 0, outputTokens: 0, costMicroUsd: 0 }, 1, "model = 'stories260K' AND path = 'gpu' AND status = 200"))
      .toMatchObject({ requests: 1, inputTokens: sent.prompt_tokens, outputTokens: sent.completion_tokens });
    expect(sent.completion_tokens).toBe(10);
  });
});
