/**
 * The fuzz's requests: a sweep of every route with every method, then structured oddities (encodings, content
 * types, chunked bodies, request-id, Idempotency-Key and Authorization oddities, usage queries), then random
 * mutations of valid bodies. Header values may hold {key}, {admin}, {victim}, ... which the sender replaces with
 * the run's credentials, so a case list is the same for a seed whatever keys the server made.
 */
import { deflateSync, gzipSync } from 'node:zlib';
import { damageBytes, jsonText, mutateTree, type Json } from './fuzz-json.js';
import type { Rng } from './fuzz-random.js';

export interface FuzzCase {
  name: string;
  method: string;
  path: string;
  headers: [string, string][];
  body?: Uint8Array;
  /** Sent as Transfer-Encoding: chunked in this many writes. */
  chunks?: number;
  /** Hang up after part of the body (upload) or after the response's first bytes (response). */
  hangUp?: 'upload' | 'response';
}

const JSON_TYPE: [string, string] = ['content-type', 'application/json'];
const KEY: [string, string] = ['authorization', 'Bearer {key}'];
const ADMIN: [string, string] = ['authorization', 'Bearer {admin}'];

interface BodyRoute { path: string; seeds: Json[] }
const BODY_ROUTES: BodyRoute[] = [
  { path: '/v1/classify', seeds: [{ input: 'a fine film' }, { model: 'sentiment', input: ['a wonderful film', 'a dull mess'], top_k: 1 }] },
  { path: '/models/sentiment', seeds: [{ inputs: 'a fine film' }, { inputs: ['good', 'bad'], parameters: { top_k: 1, function_to_apply: 'sigmoid' } }] },
  { path: '/models/sst2-bert@3', seeds: [{ inputs: 'a fine film' }] },
  { path: '/v1/completions', seeds: [{ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 8 }, { model: 'stories260K', prompt: ['Once'], max_tokens: 6, stream: true, stream_options: { include_usage: true }, temperature: 0.8, top_p: 0.9, top_k: 5, seed: 7, stop: ['.'] }] },
  { path: '/v1/chat/completions', seeds: [{ model: 'stories260K', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8 }, { model: 'stories260K', messages: [{ role: 'system', content: 'Be brief' }, { role: 'user', content: [{ type: 'text', text: 'Tell me a story' }] }], max_completion_tokens: 6, stream: true }] },
  { path: '/admin/tenants', seeds: [{ id: 'fuzz-tenant', stripe_customer_id: 'cus_fuzz' }] },
  { path: '/admin/keys', seeds: [{ tenant: 'fuzz', rpm: 100, tpm: 10_000, monthly_budget_micro_usd: 1_000_000, name: 'fuzzed' }] },
];
const GET_ROUTES = ['/healthz', '/readyz', '/v1/models', '/v1/models/sentiment', '/v1/models/stories260K', '/v1/models/sst2-bert@3', '/v1/models/no-such-model',
  '/v1/usage', '/admin/keys', '/admin/keys?tenant=fuzz', '/admin/billing/export', '/openapi.json', '/docs'];
const ADMIN_ACTIONS: [string, string][] = [['POST', '/admin/keys/{victim}/disable'], ['POST', '/admin/keys/{victim}/enable'], ['DELETE', '/admin/keys/{doomed}'],
  ['POST', '/admin/keys/key_nope/disable'], ['DELETE', '/admin/keys/key_nope'], ['POST', '/admin/keys/{victim}/explode']];
const ODD_PATHS = ['/', '/v2/anything', '/v1', '/v1/', '/V1/CLASSIFY', '/v1/classify/', '//v1//classify', '/v1/classify?input=x', '/v1/models/%ff',
  '/v1/models/%2e%2e%2fadmin', '/v1/models/%00', '/models/', '/models/%ff%fe', '/models/sentiment/extra', '/admin', '/admin/', '/admin/keys/%ff/disable',
  `/x${'/y'.repeat(1500)}`, `/v1/models/${'a'.repeat(6000)}`, '/favicon.ico', '/.env', '/docs/../admin/keys', '/healthz/..', '/openapi.json.bak', '/v1/usage/',
  '/v1/completions/', '/v1/chat', '/v1/chat/completions/x', '/*', '/v1/models?%', '/%', '/v1\\models', '\\healthz'];
export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

const USAGE_QUERIES = ['', '?from=1', '?from=2026-11-01&to=2026-12-01', '?from=2026-13-01', '?from=2026-02-30', '?from=2026-02-29', '?to=2020-01-01',
  '?from=2026-12-01&to=2026-11-01', '?from=2026-11-01T25:00:00Z', '?from=2026-11-01T12:00:00', '?from=2026-11-01T12:00:00%2B14:00', '?from=0000-01-01',
  '?from=9999-12-31&to=9999-12-31T23:59:59Z', '?from=275760-09-13', '?from=%ff', '?from=%', '?from=%00', '?from=2026-11-01&from=2027-01-01',
  '?group_by=day', '?group_by=key', '?group_by=model', '?group_by=tenant', '?group_by=', '?group_by[]=day', '?group_by=DAY', '?group_by=__proto__',
  '?group_by=constructor', '?group_by=toString', `?from=${'2'.repeat(5000)}`, `?${'a=1&'.repeat(2000)}`, '?from=2026-11-01%0a', '?from=+2026-11-01',
  '?from=2026-11-01T00:00:00.0000000000Z', '?from=-002026-11-01', '?to=2026-11-01T00:00:00Z&from=2026-11-01T00:00:00Z', '?&&&', '?=', '?from'];

const REQUEST_IDS = ['', ' ', 'same-id', 'a'.repeat(128), 'a'.repeat(129), 'a'.repeat(7000), 'id with spaces', '../../x', 'id;drop', '\u00e9t\u00e9', '\u00ff\u00fe', 'x,y', '"quoted"'];
const IDEMPOTENCY_KEYS = ['', ' ', 'k', 'fuzz-idem', 'fuzz-idem', 'a'.repeat(255), 'a'.repeat(256), 'a'.repeat(7000), '\u00e9', 'k1, k2', '*', 'null'];
const AUTHORIZATIONS: [string, string][][] = [
  [], [['authorization', '']], [['authorization', 'Bearer']], [['authorization', 'Bearer ']], [['authorization', 'bearer {key}']],
  [['authorization', 'BEARER {key}']], [['authorization', 'Bearer  {key}']], [['authorization', 'Bearer {key} ']], [['authorization', 'Bearer {key}x']],
  [['authorization', '{key}']], [['authorization', 'Basic ZnV6ejpmdXp6']], [['authorization', 'Bearer {admin}']], [['authorization', 'Bearer {revoked}']],
  [['authorization', 'Bearer {disabled}']], [['authorization', 'Bearer {tight}']], [['authorization', 'Bearer {broke}']], [['authorization', `Bearer em_${'x'.repeat(40)}`]],
  [['authorization', `Bearer ${'y'.repeat(7000)}`]], [['authorization', 'Bearer em_\u00e9\u00e9']], [['x-api-key', '{key}']], [['x-api-key', '']],
  [['x-api-key', '{revoked}'], ['authorization', 'Bearer {key}']], [['x-api-key', '{key}'], ['authorization', 'Bearer {revoked}']],
  [['authorization', 'Bearer {key}'], ['authorization', 'Bearer {revoked}']], [['authorization', 'Bearer {key}, Bearer {key}']], [['authorization', 'Bearer {key}\t']],
];
const CONTENT_TYPES: ([string, string] | null)[] = [null, ['content-type', ''], ['content-type', 'text/plain'], ['content-type', 'application/json; charset=utf-8'],
  ['content-type', 'application/json;charset=latin1'], ['content-type', 'APPLICATION/JSON'], ['content-type', 'application/jsonx'], ['content-type', 'application/json-patch+json'],
  ['content-type', 'application/x-www-form-urlencoded'], ['content-type', 'multipart/form-data; boundary=x'], ['content-type', 'application/json, text/plain'], ['content-type', '*/*']];
const ODD_HEADERS: [string, string][] = [['expect', '100-continue'], ['accept', 'text/event-stream'], ['accept-encoding', 'gzip, br'], ['origin', 'https://evil.example'],
  ['connection', 'close'], ['x-forwarded-for', '1.2.3.4, ::1'], ['host', ''], ['host', 'evil.example:99999'], ['range', 'bytes=0-1'], ['if-none-match', '*'],
  ['cookie', 'a=b'.repeat(500)], ['x-http-method-override', 'DELETE'], ['te', 'trailers'], ['accept', 'application/xml'], ['x-request-id', 'one'], ['x-request-id', 'two']];

type Encoding = (bytes: Uint8Array, rng: Rng) => { name: string; value: string | null; body: Uint8Array };
const ENCODINGS: Encoding[] = [
  (b) => ({ name: 'gzip', value: 'gzip', body: gzipSync(b) }),
  (b) => ({ name: 'x-gzip', value: 'x-gzip', body: gzipSync(b) }),
  (b) => ({ name: 'GZIP', value: ' GZIP ', body: gzipSync(b) }),
  (b) => ({ name: 'deflate', value: 'deflate', body: deflateSync(b) }),
  (b) => ({ name: 'gzip garbage', value: 'gzip', body: b }),
  (b) => ({ name: 'deflate garbage', value: 'deflate', body: b }),
  (b, rng) => { const z = gzipSync(b); return { name: 'truncated gzip', value: 'gzip', body: z.subarray(0, rng.int(z.length)) }; },
  (b) => ({ name: 'double gzip', value: 'gzip, gzip', body: gzipSync(gzipSync(b)) }),
  (b) => ({ name: 'br', value: 'br', body: b }),
  (b) => ({ name: 'identity', value: 'identity', body: b }),
  (b) => ({ name: 'empty encoding', value: '', body: b }),
  (b) => ({ name: 'garbage encoding', value: 'x\u00e9\u00ff', body: b }),
  (_b) => ({ name: 'gzip bomb', value: 'gzip', body: gzipSync(`{"input":"${' '.repeat(4 * 1024 * 1024)}"}`) }),
  (b) => ({ name: 'gzip of invalid UTF-8', value: 'gzip', body: gzipSync(Buffer.concat([b.subarray(0, 5), Buffer.from([0xff, 0xfe]), b.subarray(5)])) }),
];

const text = (value: Json) => Buffer.from(jsonText(value));
const credentialFor = (path: string): [string, string] => (path.startsWith('/admin') ? ADMIN : KEY);
const seedOf = (path: string) => BODY_ROUTES.find((r) => path === r.path)?.seeds[0];

/** Every route with every method, with credentials and without (odd paths with two methods): a route that 500s on a method shows here. */
function* sweep(rng: Rng): Generator<FuzzCase> {
  const routes = [...BODY_ROUTES.map((r) => r.path), ...GET_ROUTES, ...ADMIN_ACTIONS.map(([, p]) => p)];
  for (const path of [...routes, ...ODD_PATHS]) {
    const methods = routes.includes(path) ? METHODS : ['GET', 'POST', rng.pick(METHODS)];
    for (const method of methods) {
      const seed = seedOf(path);
      const body = method === 'GET' || method === 'HEAD' ? undefined : seed === undefined ? text({}) : text(seed);
      yield { name: `sweep ${method}`, method, path, headers: [credentialFor(path), ...(body ? [JSON_TYPE] : [])], body };
    }
    const proper = seedOf(path) !== undefined ? 'POST' : 'GET';
    yield { name: 'sweep without credentials', method: proper, path, headers: proper === 'POST' ? [JSON_TYPE] : [], body: proper === 'POST' ? text(seedOf(path) ?? {}) : undefined };
  }
}

function* oddities(rng: Rng): Generator<FuzzCase> {
  for (const route of BODY_ROUTES) {
    const seed = text(route.seeds[0]!);
    const auth = credentialFor(route.path);
    for (const encode of ENCODINGS) {
      const { name, value, body } = encode(seed, rng);
      yield { name: `encoding ${name}`, method: 'POST', path: route.path, headers: [auth, JSON_TYPE, ...(value === null ? [] : [['content-encoding', value] as [string, string]])], body };
    }
    for (const type of CONTENT_TYPES) yield { name: `content type ${type?.[1] ?? 'none'}`, method: 'POST', path: route.path, headers: [auth, ...(type ? [type] : [])], body: seed };
    for (const chunks of [1, 3, 50]) yield { name: `chunked in ${chunks}`, method: 'POST', path: route.path, headers: [auth, JSON_TYPE], body: seed, chunks };
    yield { name: 'chunked gzip', method: 'POST', path: route.path, headers: [auth, JSON_TYPE, ['content-encoding', 'gzip']], body: gzipSync(seed), chunks: 4 };
    yield { name: 'chunked over the limit', method: 'POST', path: route.path, headers: [auth, JSON_TYPE], body: Buffer.from(`{"input":"${'x'.repeat(1_100_000)}"}`), chunks: 20 };
    yield { name: 'hang-up mid-upload', method: 'POST', path: route.path, headers: [auth, JSON_TYPE], body: seed, hangUp: 'upload' };
    // The same key twice (a replay), then with another body (422 where the body differs).
    const idem: [string, string] = ['idempotency-key', `fuzz-idem${route.path}`];
    for (const body of [seed, seed, text(route.seeds.at(-1)!)]) yield { name: 'Idempotency-Key replayed', method: 'POST', path: route.path, headers: [auth, JSON_TYPE, idem], body };
  }
  // Header oddities go round the routes: each value once, every route several times.
  const headerCases: [string, [string, string][]][] = [
    ...REQUEST_IDS.map((id): [string, [string, string][]] => ['x-request-id', [['x-request-id', id]]]),
    ['two x-request-ids', [['x-request-id', 'first'], ['x-request-id', 'second']]],
    ...IDEMPOTENCY_KEYS.map((k): [string, [string, string][]] => ['Idempotency-Key', [['idempotency-key', k]]]),
    ['two Idempotency-Keys', [['idempotency-key', 'a'], ['idempotency-key', 'b']]],
    ...AUTHORIZATIONS.map((a): [string, [string, string][]] => ['authorization', a]),
    ...ODD_HEADERS.map((h): [string, [string, string][]] => [`header ${h[0]}`, [h]]),
  ];
  for (const [i, [name, extra]] of headerCases.entries()) {
    const route = BODY_ROUTES[i % BODY_ROUTES.length]!;
    const auth = name === 'authorization' ? [] : [credentialFor(route.path)];
    yield { name, method: 'POST', path: route.path, headers: [...auth, JSON_TYPE, ...extra], body: text(route.seeds[0]!) };
  }
  for (const path of ['/v1/usage', '/admin/billing/export']) {
    for (const query of USAGE_QUERIES) yield { name: 'query', method: 'GET', path: `${path}${query}`, headers: [credentialFor(path)] };
  }
  for (const auths of AUTHORIZATIONS) yield { name: 'authorization', method: 'GET', path: '/v1/usage', headers: auths };
  for (const auths of AUTHORIZATIONS) yield { name: 'admin authorization', method: 'GET', path: '/admin/keys', headers: auths };
}

/** A valid body of a random route, changed one to three times, sometimes damaged, compressed or chunked. */
function randomCase(rng: Rng): FuzzCase {
  if (rng.chance(0.1)) {
    const path = rng.pick([...GET_ROUTES, ...ODD_PATHS]) + (rng.chance(0.3) ? rng.pick(USAGE_QUERIES) : '');
    return { name: 'random GET', method: rng.chance(0.8) ? 'GET' : rng.pick(METHODS), path, headers: [credentialFor(path)] };
  }
  const route = rng.pick(BODY_ROUTES);
  let value = rng.pick(route.seeds);
  for (let i = rng.int(3); i >= 0; i--) value = mutateTree(rng, value);
  let json = jsonText(value);
  // Several long strings can stack up past what is worth sending: past the 1 MiB limit, one is enough.
  if (json.length > 2 * 1024 * 1024) json = json.slice(0, 2 * 1024 * 1024);
  let body: Uint8Array = rng.chance(0.15) ? damageBytes(rng, json) : Buffer.from(json);
  const headers: [string, string][] = [rng.chance(0.95) ? credentialFor(route.path) : rng.pick(AUTHORIZATIONS)[0] ?? ['x-fuzz', '1']];
  const type = rng.chance(0.9) ? JSON_TYPE : rng.pick(CONTENT_TYPES);
  if (type) headers.push(type);
  if (rng.chance(0.1)) {
    const encoded = rng.pick(ENCODINGS)(body, rng);
    body = encoded.body;
    if (encoded.value !== null) headers.push(['content-encoding', encoded.value]);
  }
  if (rng.chance(0.05)) headers.push(['x-request-id', rng.pick(REQUEST_IDS)]);
  if (rng.chance(0.05)) headers.push(['idempotency-key', rng.pick(IDEMPOTENCY_KEYS)]);
  if (rng.chance(0.05)) headers.push(rng.pick(ODD_HEADERS));
  const hangUp = rng.chance(0.03) ? rng.pick(['upload', 'response'] as const) : undefined;
  return { name: 'random', method: rng.chance(0.95) ? 'POST' : rng.pick(METHODS), path: route.path, headers, body, chunks: rng.chance(0.1) ? 1 + rng.int(8) : undefined, hangUp };
}

/** The sweep, then oddities and random cases in turn, so that a run cut short by its time budget has some of both. */
export function* fuzzCases(rng: Rng, randomCount: number, parts: { sweep?: boolean; oddities?: boolean } = {}): Generator<FuzzCase> {
  if (parts.sweep !== false) yield* sweep(rng);
  const odd = parts.oddities === false ? null : oddities(rng);
  for (let i = 0; i < randomCount; i++) {
    const next = odd?.next();
    if (next && !next.done) yield next.value;
    yield randomCase(rng);
  }
  if (odd) yield* odd;
}
