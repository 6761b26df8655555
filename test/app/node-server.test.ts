import { InferenceClient } from '@huggingface/inference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argmax } from '../../models/tools/classification-metrics.js';
import { readLabelledTsv } from '../../models/tools/labelled-tsv.js';
import { loadClassifier } from '../../functions/node/load-classifier.js';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';
import { sst2BertDir, devTsv } from '../paths.js';

let server: RunningServer;
/** Sizes of the batches the server's classifiers ran (its classifiers: sst2-glove-bilstm@2, the default, and sst2-bert@3). */
const batchSizes: number[] = [];
beforeAll(async () => {
  server = await startServer({ port: 0, onClassifyBatch: (size) => batchSizes.push(size) });
});
afterAll(() => server.close());

const post = (path: string, body: string | Uint8Array<ArrayBuffer>, type = 'application/json') =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
const classify = (body: unknown) => post('/v1/classify', JSON.stringify(body));

describe('the Node server on 127.0.0.1', () => {
  it('is alive, ready, and lists its models with limits, prices and the engine that serves them', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready' });
    // Native is the default where onnxruntime-node loads, as it does after npm ci here.
    expect(server.backend).toBe('node');
    const models = await (await fetch(`${server.url}/v1/models`)).json();
    expect(models.data[0]).toMatchObject({ id: 'sst2-glove-bilstm@2', task: 'text-classification', runtime: 'edge-wasm', engine: 'onnxruntime-node', aliases: ['sentiment'], labels: ['NEGATIVE', 'POSITIVE'] });
    expect(models.data.find((m: { id: string }) => m.id === 'stories260K@1')).toMatchObject({ runtime: 'gpu-upstream', engine: null });
    expect(await (await fetch(`${server.url}/v1/models/sentiment`)).json()).toMatchObject({ id: 'sst2-glove-bilstm@2', limits: { max_tokens: 128, max_batch: 64 } });
  });

  it('classifies with the default model, echoes request ids and reports timing', async () => {
    const res = await fetch(`${server.url}/v1/classify`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'req-123' },
      body: JSON.stringify({ input: ['a wonderful , moving film .', 'a dull , lifeless mess .'], top_k: 1 }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-123');
    expect(res.headers.get('server-timing')).toMatch(/tokenize;dur=[\d.]+, inference;dur=[\d.]+/);
    const body = await res.json();
    expect(body.model).toBe('sst2-glove-bilstm@2');
    expect(body.results.map((r: { label: string }[]) => r.map((x) => x.label))).toEqual([['POSITIVE'], ['NEGATIVE']]);
    expect(body.usage.input_tokens).toBeGreaterThan(4);
  });

  it('gives over HTTP the labels of the offline evaluation on all of SST-2 dev', async () => {
    const dev = await readLabelledTsv(devTsv);
    const offline = await loadClassifier(sst2BertDir, { variant: 'model_quantized', backend: server.backend });
    for (let i = 0; i < dev.length; i += 64) {
      const texts = dev.slice(i, i + 64).map((r) => r.text);
      const body = await (await classify({ model: 'sst2-bert@3', input: texts })).json();
      const expected = (await offline.classify(texts)).logits.map((l) => offline.labels[argmax(l)]);
      expect(body.results.map((r: { label: string }[]) => r[0]!.label)).toEqual(expected);
    }
  });

  it('answers 200 concurrent requests correctly and batches them', async () => {
    expect([...server.engines.keys()]).toEqual(['sst2-glove-bilstm@2', 'sst2-bert@3']);
    const texts = Array.from({ length: 200 }, (_, i) => (i % 2 ? `a dull , boring mess number ${i} .` : `a wonderful , heartfelt film number ${i} .`));
    const send = () => Promise.all(texts.map((t) => classify({ input: t }).then((r) => r.json())));
    // The first round opens the client's 200 keep-alive connections (this process is client and server at
    // once, so connecting paces the requests); the second arrives together, as from a pool of warm clients.
    await send();
    const before = batchSizes.length;
    const answers = await send();
    answers.forEach((a, i) => expect(a.results[0][0].label).toBe(i % 2 ? 'NEGATIVE' : 'POSITIVE'));
    const sizes = batchSizes.slice(before);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(200);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
  });

  it('serves the Hugging Face Inference API shape to the official client, unchanged', async () => {
    const client = new InferenceClient();
    const output = await client.textClassification({ endpointUrl: `${server.url}/models/sentiment`, inputs: 'a wonderful , heartfelt film .' });
    expect(output.map((o) => o.label)).toEqual(['POSITIVE', 'NEGATIVE']);
    expect(output[0]!.score + output[1]!.score).toBeCloseTo(1, 6);
    const limited = await client.textClassification({
      endpointUrl: `${server.url}/models/sst2-bert@3`, inputs: 'a dull , lifeless mess .', parameters: { top_k: 1, function_to_apply: 'sigmoid' },
    });
    expect(limited).toHaveLength(1);
    expect(limited[0]!.label).toBe('NEGATIVE');
    const batch = await (await post('/models/sentiment', JSON.stringify({ inputs: ['good', 'bad'] }))).json();
    expect(batch).toHaveLength(2);
    const bad = await post('/models/sentiment', JSON.stringify({ inputs: 'x', parameters: { function_to_apply: 'tanh' } }));
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.param).toBe('parameters.function_to_apply');
  });

  it('truncates a 10,000-character text and says so', async () => {
    const body = await (await classify({ input: 'great movie . '.repeat(800) })).json();
    expect(body.truncated).toEqual([true]);
    expect(body.usage.input_tokens).toBe(128);
  });

  it.each([
    ['malformed JSON', () => post('/v1/classify', '{"input": '), 400, /not valid JSON/],
    ['missing body', () => post('/v1/classify', ''), 400, /no body/],
    ['wrong content type', () => post('/v1/classify', 'input=hi', 'text/plain'), 415, /application\/json/],
    ['invalid UTF-8', () => post('/v1/classify', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])), 400, /not valid UTF-8/],
    ['empty string', () => classify({ input: '' }), 400, /"input" is empty/],
    ['wrong types', () => classify({ input: 42 }), 400, /"input" must be a string/],
    ['a number inside the batch', () => classify({ input: ['ok', 7] }), 400, /input\[1\] must be a string/],
    ['1,000-item batch', () => classify({ input: Array.from({ length: 1000 }, () => 'x') }), 400, /at most 64/],
    ['bad top_k', () => classify({ input: 'x', top_k: 0 }), 400, /top_k/],
    ['unknown model', () => classify({ model: 'gpt-9', input: 'x' }), 404, /does not exist; available: sentiment/],
    ['a 15,000-character model name', () => fetch(`${server.url}/v1/models/${'a'.repeat(15_000)}`), 404, /^model "a{100}…" does not exist; available: /],
    ['body over the limit', () => post('/v1/classify', JSON.stringify({ input: 'x'.repeat(2_000_000) })), 413, /over/],
    ['wrong method', () => fetch(`${server.url}/v1/classify`), 405, /GET is not allowed/],
    ['unknown route', () => fetch(`${server.url}/v2/anything`), 404, /no route/],
  ])('%s gets its status and a clear JSON error', async (_name, send, status, message) => {
    const res = await send();
    expect(res.status).toBe(status);
    const body = await res.json();
    expect(body.error.message).toMatch(message);
    expect(typeof body.error.type).toBe('string');
    expect(typeof body.error.code).toBe('string');
  });
});
