// Runs inside workerd: the Worker of wrangler.toml, with its bundled model on onnxruntime-web.
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';

type Scores = { label: string; score: number }[];
const call = (path: string, init?: RequestInit) => exports.default.fetch(new Request(`http://edge.test${path}`, init));
const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('the Worker inside workerd', () => {
  it('classifies with the bundled int8 model, in a batch as alone', async () => {
    const texts = ['a gorgeous, witty, seductive movie', 'a dull, pointless mess', 'the acting is superb'];
    const response = await postJson('/v1/classify', { input: texts }, { 'x-request-id': 'edge-test-1' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('edge-test-1');
    expect(response.headers.get('server-timing')).toMatch(/inference;dur=/);
    const body = (await response.json()) as { model: string; results: Scores[]; usage: { input_tokens: number } };
    expect(body.model).toBe('sst2-bert@1');
    expect(body.results.map((r) => r[0]!.label)).toEqual(['POSITIVE', 'NEGATIVE', 'POSITIVE']);
    expect(body.usage.input_tokens).toBeGreaterThan(texts.length * 3);
    for (const [i, text] of texts.entries()) {
      const alone = (await (await postJson('/v1/classify', { input: text })).json()) as { results: Scores[] };
      // Dynamic int8 quantizes activations per batch, so padding in a batch moves scores slightly.
      expect(alone.results[0]![0]!.label).toBe(body.results[i]![0]!.label);
      expect(Math.abs(alone.results[0]![0]!.score - body.results[i]![0]!.score)).toBeLessThan(1e-2);
    }
  });

  it('answers the Hugging Face route, the registry and errors as in Node', async () => {
    const hf = await postJson('/models/sentiment', { inputs: 'I loved every minute of it', parameters: { top_k: 1 } });
    expect(hf.status).toBe(200);
    expect(((await hf.json()) as Scores[])[0]).toEqual([{ label: 'POSITIVE', score: expect.any(Number) }]);

    const models = (await (await call('/v1/models')).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toContain('sst2-bert@1');

    const unknown = await postJson('/v1/classify', { model: 'nope', input: 'x' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/sst2-bert/);

    const malformed = await call('/v1/classify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input": ' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');

    expect((await call('/v1/classify')).status).toBe(405);
    expect((await call('/healthz')).status).toBe(200);
    expect(((await (await call('/openapi.json')).json()) as { openapi: string }).openapi).toMatch(/^3\./);
  });
});
