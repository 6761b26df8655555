// The OpenAPI document and docs page: complete, true to the routes, and true to what the API answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassifyResponse, ErrorBody, HfClassifyResponse, ModelList } from '../../functions/app/schemas.js';
import { startServer, type RunningServer } from '../../functions/node/server.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ port: 0 });
});
afterAll(() => server.close());

type Doc = { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref?: string } }> }; responses: Record<string, unknown> }>>; components: { schemas: Record<string, unknown> } };
const getDoc = async () => (await (await fetch(`${server.url}/openapi.json`)).json()) as Doc;
const post = (path: string, body: unknown) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('GET /openapi.json', () => {
  it('documents every public route with its request schema and error responses', async () => {
    const doc = await getDoc();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual(['/healthz', '/models/{id}', '/readyz', '/v1/chat/completions', '/v1/classify', '/v1/completions', '/v1/models', '/v1/models/{id}', '/v1/usage']);
    expect(doc.paths['/v1/chat/completions']!.post!.requestBody!.content['application/json']!.schema.$ref).toBe('#/components/schemas/ChatCompletionRequest');
    expect(doc.paths['/v1/classify']!.post!.requestBody!.content['application/json']!.schema.$ref).toBe('#/components/schemas/ClassifyRequest');
    expect(doc.paths['/models/{id}']!.post!.requestBody!.content['application/json']!.schema.$ref).toBe('#/components/schemas/HfTextClassificationRequest');
    expect(Object.keys(doc.paths['/v1/classify']!.post!.responses).sort()).toEqual(['200', '400', '401', '402', '403', '404', '409', '413', '415', '422', '429', '503']);
    const request = doc.components.schemas.ClassifyRequest as { required: string[]; properties: Record<string, unknown> };
    expect(request.required).toEqual(['input']);
    expect(Object.keys(request.properties).sort()).toEqual(['input', 'model', 'top_k']);
  });

  it('every documented operation is served (none answers "no route")', async () => {
    const doc = await getDoc();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) {
        const url = `${server.url}${path.replace('{id}', 'sentiment')}`;
        const body = { input: 'fine', inputs: 'fine', model: path.includes('completions') ? 'stories260K' : undefined, prompt: 'Once', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 };
        const res = await fetch(url, method === 'post' ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {});
        expect(res.status, `${method} ${path}`).toBe(200);
      }
    }
  });

  it('the documented response schemas hold for what the API answers', async () => {
    ClassifyResponse.parse(await (await post('/v1/classify', { input: ['a fine film', 'a bad one'], top_k: 1 })).json());
    HfClassifyResponse.parse(await (await post('/models/sentiment', { inputs: 'a fine film' })).json());
    ModelList.parse(await (await fetch(`${server.url}/v1/models`)).json());
    ErrorBody.parse(await (await post('/v1/classify', { input: 3 })).json());
    ErrorBody.parse(await (await post('/v1/classify', { model: 'nope', input: 'x' })).json());
  });
});

describe('GET /docs', () => {
  it('renders every operation and schema as HTML without external scripts', async () => {
    const res = await fetch(`${server.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    const doc = await getDoc();
    for (const path of Object.keys(doc.paths)) expect(html).toContain(`<code>${path}</code>`);
    for (const name of Object.keys(doc.components.schemas)) expect(html).toContain(`id="schema-${name}"`);
    expect(html).not.toMatch(/<script/i);
  });
});
