/**
 * Privacy policies on the AWS router: the Lambda handler over DynamoDB (dynalite) with the policies in the billing
 * table, set through the admin API and through `npm run keys -- privacy` against the tables. Its GPU model has two
 * upstreams, real HTTP servers on 127.0.0.1 that record every request they receive (health probes included): one
 * in the us (first, where unpinned keys go), one in the eu. The function runs in the eu (EDGE_MAAS_REGION).
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalDynamo, type LocalDynamo } from '../billing/local-dynamodb.js';
import { repoRoot } from '../paths.js';
import { functionUrlEvent, lambdaContext, type BufferedResult } from './lambda-events.js';

const ADMIN_TOKEN = 'lambda-privacy-admin';
const EMAIL = 'jane.doe@example.com';
const CARD = '4111 1111 1111 1111';
const PROMPT = `Mail ${EMAIL}, card ${CARD}, order #A-10023 of 2024-03-15.`;

interface Recorder {
  url: string;
  /** Every request: method, path and body. */
  received: { method: string; path: string; body: string }[];
  close(): Promise<void>;
}

async function recordingUpstream(region: string): Promise<Recorder> {
  const received: Recorder['received'] = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    received.push({ method: req.method!, path: req.url!, body });
    if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      id: 'x1', created: 1, model: 'stories260K', object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: `from ${region}` }, finish_reason: 'stop' }], usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
    }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

let dynamo: LocalDynamo;
let us: Recorder;
let eu: Recorder;
let env: Record<string, string>;
let handler: typeof import('../../functions/lambda/handler.js').handler;

beforeAll(async () => {
  [dynamo, us, eu] = await Promise.all([startLocalDynamo(), recordingUpstream('us'), recordingUpstream('eu')]);
  const overlay = {
    models: [{
      id: 'stories260K', version: '1', task: 'text-generation', runtime: 'gpu-upstream', max_tokens: 512, aliases: ['tiny-stories'],
      upstreams: [{ url: us.url, model: 'stories260K', region: 'us' }, { url: eu.url, model: 'stories260K', region: 'eu' }],
      price: { request_micro_usd: 0, input_token_micro_usd: 0.05, output_token_micro_usd: 0.2 },
    }],
  };
  env = {
    BILLING_TABLE: dynamo.tables.billing, USAGE_TABLE: dynamo.tables.usage, DYNAMODB_ENDPOINT: dynamo.endpoint,
    ADMIN_TOKEN, REGISTRY_OVERLAY: JSON.stringify(overlay), EDGE_MAAS_REGION: 'eu',
  };
  Object.assign(process.env, env);
  ({ handler } = await import('../../functions/lambda/handler.js'));
}, 60_000);
afterAll(async () => {
  for (const name of Object.keys(env ?? {})) delete process.env[name];
  await Promise.all([us?.close(), eu?.close()]);
  await dynamo?.close();
});

const invoke = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const res = (await handler(functionUrlEvent(method, path, body === undefined ? undefined : JSON.stringify(body), { 'content-type': 'application/json', ...headers }), lambdaContext)) as BufferedResult;
  return { status: res.statusCode, headers: res.headers, body: res.body ? (JSON.parse(res.body) as Record<string, any>) : {} };
};
const admin = (method: string, path: string, body?: unknown) => invoke(method, `/admin${path}`, body, { authorization: `Bearer ${ADMIN_TOKEN}` });
const chat = (key: string, headers: Record<string, string> = {}) =>
  invoke('POST', '/v1/chat/completions', { model: 'tiny-stories', messages: [{ role: 'user', content: PROMPT }], max_tokens: 8 }, { authorization: `Bearer ${key}`, ...headers });
const classify = (key: string) => invoke('POST', '/v1/classify', { input: 'a wonderful , heartfelt film .' }, { authorization: `Bearer ${key}` });

async function newKey(tenant: string): Promise<{ key: string; id: string }> {
  expect((await admin('POST', '/tenants', { id: tenant })).status).toBe(201);
  const created = await admin('POST', '/keys', { tenant });
  expect(created.status).toBe(201);
  return created.body as { key: string; id: string };
}

async function keysCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'functions/node/keys-cli.ts', ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const posts = (r: Recorder) => r.received.filter((x) => x.method === 'POST');
const billingItems = async () => (await dynamo.client.send(new ScanCommand({ TableName: dynamo.tables.billing }))).Items ?? [];

describe('privacy policies on the Lambda router (DynamoDB)', () => {
  it('mask set through the admin API: the upstream receives no e-mail or card number, and the answer counts them per kind', async () => {
    const { key, id } = await newKey('maskco');
    const put = await admin('PUT', `/keys/${id}/privacy`, { pii: 'mask' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ object: 'privacy_policy', scope: 'key', pii: 'mask', retention: 'standard', region: null, source: 'key' });
    expect(await billingItems()).toContainEqual(expect.objectContaining({ pk: `privacy#key#${id}`, pii: 'mask', retention: 'standard' }));
    const before = posts(us).length;
    const res = await chat(key);
    expect(res.status).toBe(200);
    expect(res.headers['x-edge-maas-pii']).toBe('email=1, card=1');
    expect(posts(us).length).toBe(before + 1);
    const sent = posts(us).at(-1)!.body;
    expect(sent).not.toContain(EMAIL);
    expect(sent).not.toContain(CARD);
    expect((JSON.parse(sent) as { messages: { content: string }[] }).messages[0]!.content).toBe('Mail [EMAIL], card [CARD], order #A-10023 of 2024-03-15.');
  }, 60_000);

  it('a tenant policy set with npm run keys against the tables: block refuses before the upstream; a key of its own wins over it', async () => {
    const { key, id } = await newKey('blockco');
    const set = await keysCli('privacy', 'tenant', 'blockco', '--pii', 'block');
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ scope: 'tenant', id: 'blockco', pii: 'block', source: 'tenant' });
    expect((await admin('GET', `/keys/${id}/privacy`)).body).toMatchObject({ pii: 'block', source: 'tenant' });
    const sentBefore = posts(us).length + posts(eu).length;
    const blocked = await chat(key);
    expect(blocked.status).toBe(400);
    expect(blocked.body.error).toMatchObject({ code: 'pii_blocked', type: 'invalid_request_error' });
    expect(JSON.stringify(blocked.body)).not.toContain(EMAIL);
    expect(posts(us).length + posts(eu).length).toBe(sentBefore);
    // The key's own row (through the CLI) starts from its tenant's pii; mask it, and the request goes out masked.
    const own = await keysCli('privacy', 'key', id, '--pii', 'mask');
    expect(own.code, own.stderr).toBe(0);
    expect(JSON.parse(own.stdout)).toMatchObject({ scope: 'key', pii: 'mask', source: 'key' });
    expect((await admin('GET', `/keys/${id}/privacy`)).body).toMatchObject({ pii: 'mask', source: 'key' });
  }, 60_000);

  it('retention=none: uploads refused, and no idempotent replay is kept in DynamoDB', async () => {
    const { key, id } = await newKey('nokeep');
    expect((await admin('PUT', `/keys/${id}/privacy`, { retention: 'none' })).body).toMatchObject({ pii: 'off', retention: 'none' });
    const upload = await invoke('POST', '/v1/files', { purpose: 'fine-tune' }, { authorization: `Bearer ${key}` });
    expect(upload.status).toBe(403);
    expect(upload.body.error).toMatchObject({ code: 'retention_forbids_storage' });
    const first = await invoke('POST', '/v1/classify', { input: 'a dull film' }, { authorization: `Bearer ${key}`, 'idempotency-key': 'nokeep-1' });
    expect(first.status).toBe(200);
    expect(first.headers['x-edge-maas-privacy']).toContain('retention=none');
    const idem = async () => (await billingItems()).filter((item) => String(item.pk).startsWith('idem#'));
    expect(await idem()).toEqual([]);
    // A key of standard retention keeps its answer for replays: the same store, read the same way, has it.
    const standard = await newKey('keeps');
    expect((await invoke('POST', '/v1/classify', { input: 'a dull film' }, { authorization: `Bearer ${standard.key}`, 'idempotency-key': 'keeps-1' })).status).toBe(200);
    expect((await idem()).map((item) => String(item.pk))).toEqual([expect.stringContaining('keeps-1')]);
  }, 60_000);

  it('a key pinned to eu reaches only the eu upstream, and is classified here (eu); one pinned to us gets 403 region_not_here for in-process work', async () => {
    const { key, id } = await newKey('pinned-eu');
    expect((await admin('PUT', `/keys/${id}/privacy`, { region: 'eu' })).body).toMatchObject({ region: 'eu', region_source: 'key' });
    const [usBefore, euBefore] = [us.received.length, posts(eu).length];
    for (let i = 0; i < 3; i++) {
      const res = await chat(key);
      expect(res.status).toBe(200);
      expect(res.body.choices[0].message.content).toBe('from eu');
    }
    expect(posts(eu).length).toBe(euBefore + 3);
    expect(us.received.length).toBe(usBefore);
    expect((await classify(key)).status).toBe(200);

    const other = await newKey('pinned-us');
    const pinned = await keysCli('privacy', 'key', other.id, '--region', 'us');
    expect(pinned.code, pinned.stderr).toBe(0);
    const inProcess = await classify(other.key);
    expect(inProcess.status).toBe(403);
    expect(inProcess.body.error).toMatchObject({ code: 'region_not_here' });
    const euSeen = posts(eu).length;
    expect((await chat(other.key)).body.choices[0].message.content).toBe('from us');
    expect(posts(eu).length).toBe(euSeen);
  }, 60_000);

  it('bad input is a 400 naming the field, and the policy in force stays', async () => {
    const { id } = await newKey('badco');
    expect((await admin('PUT', `/keys/${id}/privacy`, { pii: 'mask', region: 'eu' })).status).toBe(200);
    const cases: [unknown, string][] = [[{ pii: 'redact' }, 'pii'], [{ retention: 'forever' }, 'retention'], [{ region: 'jp' }, 'region'], [{ residency: 'eu' }, 'residency']];
    for (const [body, param] of cases) {
      const res = await admin('PUT', `/keys/${id}/privacy`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toMatchObject({ param, type: 'invalid_request_error' });
    }
    expect((await admin('PUT', '/keys/key_nope/privacy', { pii: 'mask' })).status).toBe(404);
    expect((await admin('GET', `/keys/${id}/privacy`)).body).toMatchObject({ pii: 'mask', retention: 'standard', region: 'eu' });
    const cli = await keysCli('privacy', 'key', id, '--region', 'jp');
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/--region: region "jp"/);
    expect((await admin('GET', `/keys/${id}/privacy`)).body).toMatchObject({ pii: 'mask', region: 'eu' });
  }, 60_000);
});
