// The OpenAPI document and the docs page: complete, true to the routes, and true to what the API answers; the 405
// answers come from the same route table, a plugin's routes included.
import { createRoute, z as openapiZ } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../functions/app/create-app.js';
import { ClassifyResponse, HfClassifyResponse, ModelList } from '../../functions/app/schemas.js';
import { ErrorBody } from '../../functions/http/openapi-responses.js';
import { declareRoute, routeGroup } from '../../functions/http/route-declaration.js';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';

let server: RunningServer;
beforeAll(async () => {
  // The core's and billing's routes: fine-tuning's plugin documents and checks its own (test/tuning/).
  server = await startServer({ port: 0, fineTuning: false });
});
afterAll(() => server.close());

type Content = Record<string, { schema: { $ref?: string } }>;
type Doc = { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Content }; responses: Record<string, { content?: Content }> }>>; components: { schemas: Record<string, unknown> } };

/** OpenAPI 3.0's `nullable: true` as JSON Schema's null type, and component refs as $defs, for zod's JSON-schema reader. */
function asJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(asJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const out = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', '#/$defs/') : asJsonSchema(v)]));
  if (nullable !== true) return out;
  return typeof out.type === 'string' ? { ...out, type: [out.type, 'null'] } : { anyOf: [out, { type: 'null' }] };
}

/** The schema the document declares for one operation's answer with this status (throws when none is declared). */
function declaredSchema(doc: Doc, path: string, method: string, status: number, type = 'application/json'): z.ZodType {
  const response = doc.paths[path]?.[method]?.responses[String(status)];
  if (!response) throw new Error(`${method} ${path} does not declare a ${status} answer`);
  const schema = response.content?.[type]?.schema;
  if (!schema) throw new Error(`${method} ${path} declares no ${type} schema for ${status}`);
  return z.fromJSONSchema({ ...(asJsonSchema(schema) as object), $defs: asJsonSchema(doc.components.schemas) } as Parameters<typeof z.fromJSONSchema>[0]);
}
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
    expect(Object.keys(request.properties).sort()).toEqual(['cache', 'explain', 'input', 'model', 'top_k']);
    // Explanations are documented where clients read them: the option, and the field it adds to a label's score.
    expect(doc.components.schemas.LabelScore).toMatchObject({ properties: { explanation: expect.anything() } });
    expect(doc.components.schemas.Explanation).toMatchObject({ required: expect.arrayContaining(['method', 'words', 'truncated', 'explained_chars']) });
    const hf = doc.components.schemas.HfTextClassificationRequest as { properties: { parameters: { properties: Record<string, unknown> } } };
    expect(Object.keys(hf.properties.parameters.properties)).toContain('explain');
  });

  it("documents billing's refusals on every operation its middleware runs on, and only there", async () => {
    const doc = await getDoc();
    const statuses = (path: string, method: string) => Object.keys(doc.paths[path]![method]!.responses);
    for (const [path, method] of [['/v1/models', 'get'], ['/v1/models/{id}', 'get'], ['/v1/usage', 'get'], ['/models/{id}', 'post'], ['/v1/completions', 'post']] as const) {
      expect(statuses(path, method), `${method} ${path}`).toEqual(expect.arrayContaining(['401', '402', '403', '409', '422', '429']));
    }
    expect(statuses('/healthz', 'get')).not.toContain('401');
    const routesAlone = createApp({ registry: await readLocalRegistry(), engines: new Map(), isReady: () => true });
    const alone = (await (await routesAlone.request('/openapi.json')).json()) as Doc;
    expect(Object.keys(alone.paths['/v1/classify']!.post!.responses).sort()).toEqual(['200', '400', '404', '409', '413', '415', '503']);
  });

  it("documents privacy's request header, refusals and answer headers on every operation it runs on, as the API answers them", async () => {
    const doc = (await getDoc()) as Doc & { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }>; responses: Record<string, { description: string; headers?: Record<string, unknown> }> }>> };
    const covered = Object.entries(doc.paths).filter(([path]) => path.startsWith('/v1/') || path.startsWith('/models/'));
    expect(covered.length).toBeGreaterThan(5);
    for (const [path, item] of covered) {
      for (const [method, operation] of Object.entries(item)) {
        const where = `${method} ${path}`;
        expect(operation.parameters?.filter((p) => p.name === 'x-edge-maas-privacy' && p.in === 'header'), where).toHaveLength(1);
        for (const code of ['invalid_privacy_header', 'region_not_served', 'pii_blocked']) expect(operation.responses['400']?.description, where).toContain(code);
        for (const code of ['region_conflict', 'region_not_here', 'retention_forbids_storage']) expect(operation.responses['403']?.description, where).toContain(code);
        expect(operation.responses['503']?.description, where).toContain('region_unavailable');
        expect(Object.keys(operation.responses['200']?.headers ?? {}), where).toEqual(expect.arrayContaining(['x-edge-maas-privacy', 'x-edge-maas-pii']));
      }
    }
    // Billing's 403 and the route's own 400 keep their descriptions beside privacy's.
    expect(doc.paths['/v1/classify']!.post!.responses['403']!.description).toMatch(/disabled or revoked/);
    for (const [path, item] of Object.entries(doc.paths).filter(([p]) => !p.startsWith('/v1/') && !p.startsWith('/models/'))) {
      for (const operation of Object.values(item)) expect(operation.parameters ?? [], path).toEqual([]);
    }
    const ok = await post('/v1/classify', { input: 'a fine film' });
    expect(ok.headers.get('x-edge-maas-privacy')).toBe('pii=off; retention=standard');
    const bad = await fetch(`${server.url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-edge-maas-privacy': 'region=eu; region=us' }, body: JSON.stringify({ input: 'x' }) });
    expect(bad.status).toBe(400);
    const answer = await bad.json();
    expect(answer.error.code).toBe('invalid_privacy_header');
    expect(declaredSchema(doc, '/v1/classify', 'post', 400).safeParse(answer).error?.issues ?? []).toEqual([]);
  });

  it('every documented operation answers what its declared schema for that status says', async () => {
    const doc = await getDoc();
    const checked: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) {
        const url = `${server.url}${path.replace('{id}', 'sentiment')}`;
        // /v1/classify refuses fields it does not have, so it gets only its own.
        const body = path === '/v1/classify' ? { input: 'fine' } : { input: 'fine', inputs: 'fine', model: path.includes('completions') ? 'stories260K' : undefined, prompt: 'Once', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 };
        const res = await fetch(url, method === 'post' ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : { method: method.toUpperCase() });
        // A registry model cannot be deleted (a fine-tuned model's 200 is checked in test/tuning/).
        expect(res.status, `${method} ${path}`).toBe(method === 'delete' ? 403 : 200);
        const type = res.headers.get('content-type')!.split(';')[0]!;
        const answer = type === 'application/json' ? await res.json() : await res.text();
        const parsed = declaredSchema(doc, path, method, res.status, type).safeParse(answer);
        expect(parsed.error?.issues ?? [], `${method} ${path}: ${JSON.stringify(answer).slice(0, 300)}`).toEqual([]);
        checked.push(`${method} ${path}`);
      }
    }
    expect(checked).toHaveLength(Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0));
  });

  it.each([
    ['a malformed classification', 'post', '/v1/classify', '/v1/classify', { input: 3 }, 400],
    ['an unknown model', 'post', '/v1/classify', '/v1/classify', { model: 'nope', input: 'x' }, 404],
    ['an unknown model by path', 'get', '/v1/models/{id}', '/v1/models/nope', undefined, 404],
    ['a bad Hugging Face body', 'post', '/models/{id}', '/models/sentiment', { inputs: 'x', parameters: { function_to_apply: 'tanh' } }, 400],
    ['a generation without messages', 'post', '/v1/chat/completions', '/v1/chat/completions', { model: 'stories260K' }, 400],
    ['a bad usage query', 'get', '/v1/usage', '/v1/usage?group_by=planet', undefined, 400],
  ])('%s answers its status with the declared error schema', async (_name, method, path, url, body, status) => {
    const res = await fetch(`${server.url}${url}`, method === 'post' ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {});
    expect(res.status).toBe(status);
    const parsed = declaredSchema(await getDoc(), path, method, status).safeParse(await res.json());
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('the documented response schemas hold for what the API answers', async () => {
    ClassifyResponse.parse(await (await post('/v1/classify', { input: ['a fine film', 'a bad one'], top_k: 1 })).json());
    HfClassifyResponse.parse(await (await post('/models/sentiment', { inputs: 'a fine film' })).json());
    ModelList.parse(await (await fetch(`${server.url}/v1/models`)).json());
    ErrorBody.parse(await (await post('/v1/classify', { input: 3 })).json());
    ErrorBody.parse(await (await post('/v1/classify', { model: 'nope', input: 'x' })).json());
  });
});

describe('the route table', () => {
  it('answers 405 on every documented path with Allow listing exactly its documented methods', async () => {
    const doc = await getDoc();
    for (const [path, item] of Object.entries(doc.paths)) {
      const res = await fetch(`${server.url}${path.replace('{id}', 'sentiment')}`, { method: 'PATCH' });
      expect(res.status, path).toBe(405);
      const documented = Object.keys(item).map((m) => m.toUpperCase()).flatMap((m) => (m === 'GET' ? [m, 'HEAD'] : [m]));
      expect(res.headers.get('allow')?.split(', ').sort(), path).toEqual(documented.sort());
      expect(ErrorBody.parse(await res.json()).error).toMatchObject({ code: 'method_not_allowed', message: `PATCH is not allowed on ${path.replace('{id}', 'sentiment')}` });
    }
  });

  it('knows the routes it keeps out of the document', async () => {
    const res = await fetch(`${server.url}/openapi.json`, { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers 404 for a path no route declares, under a documented one too', async () => {
    for (const path of ['/v1/classify/x', '/v1/models/a/b', '/nope']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(ErrorBody.parse(await res.json()).error.code).toBe('not_found');
    }
  });

  it("puts a plugin's routes in the document and the 405 answers, with the request validated as the core's are", async () => {
    const extra = routeGroup();
    const route = createRoute({
      method: 'get', path: '/v1/extra', summary: 'A plugin route',
      request: { query: openapiZ.object({ n: openapiZ.enum(['1', '2'], { error: 'must be 1 or 2' }) }) },
      responses: { 200: { description: 'n back' } },
    });
    declareRoute(extra, route, (c) => c.json({ n: c.req.valid('query').n }));
    const app = createApp({ registry: await readLocalRegistry(), engines: new Map(), isReady: () => true, plugins: [{ routes: [extra] }] });
    const doc = (await (await app.request('/openapi.json')).json()) as Doc;
    expect(Object.keys(doc.paths)).toContain('/v1/extra');
    expect(await (await app.request('/v1/extra?n=2&n=1')).json()).toEqual({ n: '2' });
    const bad = await app.request('/v1/extra?n=3');
    expect(bad.status).toBe(400);
    expect(ErrorBody.parse(await bad.json()).error).toMatchObject({ message: '"n" must be 1 or 2', param: 'n', code: 'invalid_request' });
    const wrong = await app.request('/v1/extra', { method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('GET /docs', () => {
  it("is the console's API reference: Swagger UI over /openapi.json, every script and style from this server", async () => {
    const res = await fetch(`${server.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = await res.text();
    expect(html).toContain('data-page="reference"');
    const assets = [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
    expect(assets.some((a) => /\/console\/assets\/swagger-ui[^/]*\.js$/.test(a))).toBe(true);
    for (const asset of assets) {
      expect(asset, 'served by this deployment').toMatch(/^\/console\/assets\//);
      const file = await fetch(`${server.url}${asset}`);
      expect(file.status, asset).toBe(200);
      expect((await file.text()).length, asset).toBeGreaterThan(1000);
    }
    expect(await (await fetch(`${server.url}/console/reference`)).text()).toBe(html);
  });
});
