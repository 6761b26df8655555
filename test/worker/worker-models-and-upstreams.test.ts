// Inside workerd: model files from the bundle or from R2, and generation without a configured GPU service.
import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { modelFileReader, type R2BucketLike } from '../../functions/worker/edge-models.js';

const bucket = (env as { MODELS: R2BucketLike & { put(key: string, value: Uint8Array): Promise<unknown> } }).MODELS;

describe('the Worker', () => {
  it('reads a model file from its bundle first and from R2 otherwise', async () => {
    await bucket.put('big-model/onnx/model_quantized.onnx', new Uint8Array([1, 2, 3]));
    await bucket.put('sst2-bert/config.json', new TextEncoder().encode('{"not": "the bundled one"}'));
    expect(Array.from((await modelFileReader('big-model', bucket)('onnx/model_quantized.onnx'))!)).toEqual([1, 2, 3]);
    expect(await modelFileReader('big-model', bucket)('missing.json')).toBeNull();
    const bundled = new TextDecoder().decode((await modelFileReader('sst2-bert', bucket)('config.json'))!);
    expect(JSON.parse(bundled).model_type).toBe('bert');
  });

  it('answers generation with 503 while no GPU service is configured', async () => {
    const admin = { authorization: 'Bearer worker-test-admin', 'content-type': 'application/json' };
    await exports.default.fetch(new Request('http://edge.test/admin/tenants', { method: 'POST', headers: admin, body: JSON.stringify({ id: 'gen-edge' }) }));
    const { key } = (await (await exports.default.fetch(new Request('http://edge.test/admin/keys', { method: 'POST', headers: admin, body: JSON.stringify({ tenant: 'gen-edge' }) }))).json()) as { key: string };
    const res = await exports.default.fetch(new Request('http://edge.test/v1/chat/completions', {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
    }));
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/no upstream is configured/);
  });
});
