/**
 * Traffic routes on the AWS router: the Lambda handler over DynamoDB (dynalite), the routes in the billing table.
 * A split alias answers each key with one version (header and body name it); a bad route is a 400 that leaves the
 * route in force; a shadow's comparisons are counted in DynamoDB; `npm run models:route` against the tables changes
 * what the running handler routes by (within its 5 s cache); DELETE returns to the registry's alias.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { repoRoot } from '../paths.js';
import { useLambdaBackends } from './lambda-backends.js';
import { functionUrlEvent, lambdaContext, type BufferedResult } from './lambda-events.js';

const ADMIN_TOKEN = 'lambda-traffic-admin';
const BILSTM = 'sst2-glove-bilstm@2';
const BERT = 'sst2-bert@3';
const VERSION = 'x-edge-maas-model-version';
const TEXTS = ['a wonderful, heartfelt film', 'a dull, lifeless mess'];
const lambda = useLambdaBackends(ADMIN_TOKEN);
let handler: typeof import('../../functions/lambda/handler.js').handler;
let keys: { key: string; id: string }[];

const invoke = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const res = (await handler(functionUrlEvent(method, path, body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), { 'content-type': 'application/json', ...headers }), lambdaContext)) as BufferedResult;
  return { status: res.statusCode, headers: res.headers, body: res.body ? (JSON.parse(res.body) as Record<string, any>) : {} };
};
const admin = (method: string, path: string, body?: unknown) => invoke(method, `/admin${path}`, body, { authorization: `Bearer ${ADMIN_TOKEN}` });
const route = (method: string, alias: string, body?: unknown) => admin(method, `/routes/${alias}`, body);
const answer = async (key: string, input: unknown = TEXTS[0]) => {
  const res = await invoke('POST', '/v1/classify', { model: 'sentiment', input }, { authorization: `Bearer ${key}` });
  return { status: res.status, version: res.headers[VERSION], body: res.body };
};

async function routesCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'functions/node/models-route-cli.ts', ...args], { cwd: repoRoot, env: { ...process.env, ...lambda.env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  ({ handler } = await import('../../functions/lambda/handler.js'));
  expect((await admin('POST', '/tenants', { id: 'routed' })).status).toBe(201);
  keys = [];
  for (let i = 0; i < 24; i++) {
    const created = await admin('POST', '/keys', { tenant: 'routed', rpm: 100_000 });
    expect(created.status).toBe(201);
    keys.push(created.body as { key: string; id: string });
  }
}, 120_000);

describe('traffic routes on the Lambda router (DynamoDB)', () => {
  it('a 50/50 split: each key sees one version, named in the header and the body, and both versions serve', async () => {
    const put = await route('PUT', 'sentiment', { weights: { [BILSTM]: 50, [BERT]: 50 } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ object: 'model_route', alias: 'sentiment', source: 'route', weights: { [BILSTM]: 50, [BERT]: 50 }, shadow: null });
    const stored = await lambda.dynamo.client.send(new GetCommand({ TableName: lambda.dynamo.tables.billing, Key: { pk: 'traffic#routes' } }));
    expect(stored.Item?.['route:sentiment']).toMatchObject({ weights: [{ model: BERT, weight: 50 }, { model: BILSTM, weight: 50 }] });
    const seen = new Map<string, Set<string>>();
    for (const { id, key } of keys) {
      for (const text of TEXTS) {
        const res = await answer(key, text);
        expect(res.status).toBe(200);
        expect(res.body.model).toBe(res.version);
        seen.set(id, (seen.get(id) ?? new Set()).add(res.version!));
      }
    }
    expect([...seen.values()].every((versions) => versions.size === 1)).toBe(true);
    // 24 keys at 50/50: both versions serve (all on one side has probability 2^-23).
    expect(new Set([...seen.values()].map((v) => [...v][0]))).toEqual(new Set([BILSTM, BERT]));
    expect((await admin('GET', '/routes')).body.data).toEqual([expect.objectContaining({ alias: 'sentiment', weights: { [BILSTM]: 50, [BERT]: 50 } })]);
  }, 120_000);

  it('refuses bad routes with 400 naming the field, and the route in force stays', async () => {
    const before = await route('GET', 'sentiment');
    const bad: [unknown, string][] = [
      [{ weights: { [BILSTM]: 60, [BERT]: 30 } }, 'weights'],
      [{ weights: { [BILSTM]: 90, 'sst2-bert@7': 10 } }, 'weights.sst2-bert@7'],
      [{ weights: { [BILSTM]: 100 }, shadow: { model: 'sst2-bert@7', percent: 5 } }, 'shadow.model'],
      [{ weights: { [BILSTM]: 100 }, canary: true }, 'canary'],
    ];
    for (const [body, param] of bad) {
      const res = await route('PUT', 'sentiment', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toMatchObject({ param, type: 'invalid_request_error' });
    }
    expect((await route('PUT', 'sentiment', '{"weights": ')).status).toBe(400);
    expect((await route('PUT', 'no-such-alias', { weights: { [BILSTM]: 100 } })).status).toBe(404);
    expect((await route('GET', 'sentiment')).body).toEqual(before.body);
  }, 60_000);

  it('a shadow version: answers are the routed version, comparisons counted in DynamoDB across requests', async () => {
    expect((await route('PUT', 'sentiment', { weights: { [BILSTM]: 100 }, shadow: { model: BERT, percent: 100 } })).status).toBe(200);
    const requests = 6;
    for (let i = 0; i < requests; i++) {
      const res = await answer(keys[0]!.key, TEXTS);
      expect([res.status, res.version]).toEqual([200, BILSTM]);
    }
    const counted = (r: { body: Record<string, any> }) => {
      const c = r.body.shadow_comparisons?.[0];
      return c !== undefined && c.compared + c.skipped === requests * TEXTS.length;
    };
    const comparison = (await eventually(() => route('GET', 'sentiment'), counted, 20_000, 100)).body.shadow_comparisons[0];
    expect(comparison).toMatchObject({ model: BILSTM, shadow_model: BERT });
    expect(comparison.compared).toBeGreaterThan(0);
  }, 60_000);

  it('npm run models:route against the tables: the handler follows it within its cache, a bad one is refused, clear returns to the registry', async () => {
    const set = await routesCli('set', 'sentiment', '--weight', `${BERT}=100`);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ source: 'route', weights: { [BERT]: 100 }, shadow: null, shadow_comparisons: [expect.objectContaining({ model: BILSTM, shadow_model: BERT })] });
    await eventually(() => answer(keys[1]!.key), (r) => r.version === BERT, 8_000, 200);
    const refused = await routesCli('set', 'sentiment', '--weight', `${BERT}=90`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('weights');
    expect(JSON.parse((await routesCli('show', 'sentiment')).stdout).weights).toEqual({ [BERT]: 100 });
    const cleared = await routesCli('clear', 'sentiment');
    expect(JSON.parse(cleared.stdout)).toMatchObject({ deleted: true, source: 'registry' });
    await eventually(() => answer(keys[1]!.key), (r) => r.version === BILSTM, 8_000, 200);
    const again = await route('DELETE', 'sentiment'); // nothing stored any more: nothing to delete
    expect([again.status, again.body.error?.code]).toEqual([404, 'no_route']);
    expect((await admin('GET', '/routes')).body.data).toEqual([]);
  }, 60_000);
});
