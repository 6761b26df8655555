/**
 * How region pinning refuses, through two real Node servers over one SQLite file (keys mode, admin API): one runs in
 * `uk`, one has no region. A refusal that no retry can change is a 403 (the official Hugging Face client does not
 * retry it), counted by the key's rate limit; bad input (a body, a wrong-task model, a header region nothing serves,
 * a header naming two regions) is a 400; an idempotent replay is checked and marked as the request would be; a
 * pinned key's stored files are read and deleted only where it is pinned; a revoked key's policy does not change.
 */
import { connect } from 'node:net';
import { InferenceClient } from '@huggingface/inference';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';
import { ADMIN, adminClient, classifyWith, startKeysServer, type KeysServer } from '../billing/helpers.js';
import { sqliteRows } from '../billing/sqlite-rows.js';
import { recordingUpstream, regionalRegistry, type RecordingUpstream } from '../generation/region-helpers.js';

let eu: RecordingUpstream;
let us: RecordingUpstream;
let uk: KeysServer;
let nowhere: RunningServer;

beforeAll(async () => {
  [eu, us] = await Promise.all([recordingUpstream('eu'), recordingUpstream('us')]);
  const registry = regionalRegistry({ mixed: [{ url: us.url, region: 'us' }, { url: eu.url, region: 'eu' }] });
  uk = await startKeysServer({ registry, region: 'uk', generation: false, upstreamIdleTimeoutMs: 5_000 });
  nowhere = await startServer({ port: 0, auth: 'keys', usageDb: uk.db.path, adminToken: ADMIN, registry, generation: false, upstreamIdleTimeoutMs: 5_000 });
}, 180_000);
afterAll(async () => {
  await nowhere?.close();
  await uk?.close();
  await Promise.all([eu, us].map((u) => u?.close()));
});

const errorOf = async (response: Response) => ((await response.json()) as { error: { code: string; message: string; param: string | null; type: string } }).error;
const setPolicy = (id: string, body: unknown) => uk.admin.call('PUT', `/keys/${id}/privacy`, body);
const usageRows = (keyId: string) => sqliteRows(uk.db.path, 'SELECT status FROM usage WHERE key_id = ?', keyId) as Array<{ status: number }>;

async function pinnedKey(tenant: string, region: string, limits: Record<string, unknown> = { rpm: 10_000 }) {
  const key = await uk.admin.key(tenant, limits);
  expect((await setPolicy(key.id, { region })).status).toBe(200);
  return key;
}

const post = (url: string, path: string, key: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, body: JSON.stringify(body) });

/** A header sent as raw bytes, as curl sends what it is given (UTF-8 here): Node's and undici's clients re-encode it. */
function classifyWithRawHeader(url: string, key: string, value: Buffer): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(url);
  const body = JSON.stringify({ input: 'a fine film' });
  const head = `POST /v1/classify HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\nauthorization: Bearer ${key}\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-edge-maas-privacy: `;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(Buffer.concat([Buffer.from(head), value, Buffer.from(`\r\n\r\n${body}`)])));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text.startsWith('HTTP/1.1 ')) return reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)![1]);
      const json = text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
      resolve({ status, body: JSON.parse(json) });
    });
  });
}

describe('refusals that no retry changes', () => {
  it('the Hugging Face client gets one 403 region_not_here for a key pinned elsewhere, and stops: one usage row, no Retry-After', async () => {
    const key = await pinnedKey('hfstorm', 'eu');
    const client = new InferenceClient(key.key);
    const started = Date.now();
    const error = await client.textClassification({ endpointUrl: `${uk.server.url}/models/sentiment`, inputs: 'a fine film' }).then(() => null, (e: unknown) => e as Error);
    expect(error).not.toBeNull();
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const url of [uk.server.url, nowhere.url]) {
      const res = await post(url, '/models/sentiment', key.key, { inputs: 'a fine film' });
      expect(res.status).toBe(403);
      expect(res.headers.get('retry-after')).toBeNull();
      const body = await errorOf(res);
      expect(body.code).toBe('region_not_here');
      expect(body.message).toContain('send it to an endpoint that runs in eu');
      expect(body.message).toContain(url === nowhere.url ? 'where this server runs is not known' : 'in region uk');
    }
    // Usage rows are written in batches: wait for them, then check that no more came (no retry storm).
    await vi.waitFor(() => expect(usageRows(key.id).length).toBeGreaterThanOrEqual(3), { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(usageRows(key.id).map((r) => r.status)).toEqual([403, 403, 403]);
  });

  it("a region refusal counts against the key's rate limit: rpm 2 answers 403, 403, then 429", async () => {
    const key = await pinnedKey('rpmpin', 'eu', { rpm: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await classifyWith(nowhere.url, key.key)).status);
    expect(statuses).toEqual([403, 403, 429]);
    // With an Idempotency-Key the refusal comes before the replay lookup, and is counted all the same.
    const other = await pinnedKey('rpmpinidem', 'eu', { rpm: 2 });
    const keyed = [];
    for (let i = 0; i < 3; i++) keyed.push((await classifyWith(nowhere.url, other.key, { input: 'a fine film' }, { 'idempotency-key': `k${i}` })).status);
    expect(keyed).toEqual([403, 403, 429]);
  });

  it('bad input is a 400 before any region answer: a wrong body, a generation model on /models, a header region nothing serves', async () => {
    const key = await pinnedKey('badpin', 'eu');
    const wrongBody = await post(nowhere.url, '/models/sentiment', key.key, { inputx: 'fine' });
    expect(wrongBody.status).toBe(400);
    const wrongTask = await post(nowhere.url, '/models/mixed', key.key, { inputs: 'fine' });
    expect(wrongTask.status).toBe(400);
    expect((await errorOf(wrongTask)).code).toBe('wrong_task');
    const open = await uk.admin.key('jpco', { rpm: 10_000 });
    for (const path of ['/v1/classify', '/v1/chat/completions']) {
      const res = await post(uk.server.url, path, open.key, { input: 'a fine film', model: 'mixed', messages: [{ role: 'user', content: 'hi' }] }, { 'x-edge-maas-privacy': 'region=jp' });
      expect(res.status, path).toBe(400);
      expect(res.headers.get('retry-after')).toBeNull();
      const error = await errorOf(res);
      expect(error).toMatchObject({ code: 'region_not_served', param: 'x-edge-maas-privacy' });
      expect(error.message).toContain('eu, uk, us');
    }
  });

  it('an unpinned key that narrowed by header is told so, not that its key is pinned', async () => {
    const open = await uk.admin.key('narrowmsg', { rpm: 10_000 });
    const res = await classifyWith(uk.server.url, open.key, { input: 'a fine film' }, { 'x-edge-maas-privacy': 'region=eu' });
    expect(res.status).toBe(403);
    const error = await errorOf(res);
    expect(error.message).toContain('asked for region eu in its x-edge-maas-privacy header');
    expect(error.message).not.toContain('pinned');
    expect((await classifyWith(uk.server.url, open.key, { input: 'a fine film' }, { 'x-edge-maas-privacy': 'region=uk' })).status).toBe(200);
  });

  it('a model with no upstream in the pinned region is a 403 region_not_here; failing upstreams stay 503 (upstream-region.test.ts)', async () => {
    const key = await pinnedKey('ukgen', 'uk');
    const res = await post(uk.server.url, '/v1/chat/completions', key.key, { model: 'mixed', max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(403);
    expect(res.headers.get('retry-after')).toBeNull();
    expect((await errorOf(res)).code).toBe('region_not_here');
  });
});

describe('the x-edge-maas-privacy header', () => {
  it('two regions, in one header or two, are a 400 naming both; the same setting twice is fine', async () => {
    const open = await uk.admin.key('twice', { rpm: 10_000 });
    const two = new Headers({ 'content-type': 'application/json', authorization: `Bearer ${open.key}` });
    two.append('x-edge-maas-privacy', 'region=eu');
    two.append('x-edge-maas-privacy', 'region=us');
    const answers = [
      await fetch(`${uk.server.url}/v1/classify`, { method: 'POST', headers: two, body: JSON.stringify({ input: 'a fine film' }) }),
      await classifyWith(uk.server.url, open.key, { input: 'a fine film' }, { 'x-edge-maas-privacy': 'region=eu; region=us' }),
      await classifyWith(uk.server.url, open.key, { input: 'a fine film' }, { 'x-edge-maas-privacy': 'pii=mask, pii=block' }),
    ];
    for (const res of answers) {
      expect(res.status).toBe(400);
      const error = await errorOf(res);
      expect(error).toMatchObject({ code: 'invalid_privacy_header', param: 'x-edge-maas-privacy' });
      expect(error.message).toMatch(/given twice, as "(eu|mask)" and as "(us|block)"/);
    }
    const same = await classifyWith(uk.server.url, open.key, { input: 'a fine film' }, { 'x-edge-maas-privacy': 'region=uk; region=uk' });
    expect(same.status).toBe(200);
    expect(same.headers.get('x-edge-maas-privacy')).toBe('pii=off; retention=standard; region=uk');
  });

  it('a value with non-ASCII characters is echoed as code points, not as mojibake', async () => {
    const open = await uk.admin.key('cyrillic', { rpm: 10_000 });
    const res = await classifyWithRawHeader(uk.server.url, open.key, Buffer.from('region=\u0435u', 'utf8'));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_privacy_header');
    expect(res.body.error.message).toContain('(got "\\u0435u")');
    expect(res.body.error.message).not.toMatch(/[\u0080-\uffff]/);
  });
});

describe('idempotent replays', () => {
  const chat = (url: string, key: string, headers: Record<string, string>) =>
    post(url, '/v1/chat/completions', key, { model: 'mixed', max_tokens: 4, messages: [{ role: 'user', content: 'where?' }] }, headers);

  it('carry the policy header, and a replay under another region is not served the kept answer', async () => {
    const open = await uk.admin.key('replayco', { rpm: 10_000 });
    const first = await chat(uk.server.url, open.key, { 'idempotency-key': 'r1' });
    expect(first.status).toBe(200);
    expect(JSON.stringify(await first.json())).toContain('answered by us');
    const again = await chat(uk.server.url, open.key, { 'idempotency-key': 'r1' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('x-edge-maas-privacy')).toBe('pii=off; retention=standard');
    await again.text();
    const narrowed = await chat(uk.server.url, open.key, { 'idempotency-key': 'r1', 'x-edge-maas-privacy': 'region=eu' });
    expect(narrowed.headers.get('idempotent-replayed')).toBeNull();
    expect(narrowed.status).toBe(422);
    expect((await errorOf(narrowed)).code).toBe('idempotency_key_reused');
  });

  it("a pinned key's replay asking for another region is a 403 region_conflict, one for the same region a replay with its header", async () => {
    const key = await pinnedKey('replaypin', 'eu');
    const first = await chat(uk.server.url, key.key, { 'idempotency-key': 'p1' });
    expect(JSON.stringify(await first.json())).toContain('answered by eu');
    const moved = await chat(uk.server.url, key.key, { 'idempotency-key': 'p1', 'x-edge-maas-privacy': 'region=us' });
    expect(moved.status).toBe(403);
    expect((await errorOf(moved)).code).toBe('region_conflict');
    const same = await chat(uk.server.url, key.key, { 'idempotency-key': 'p1' });
    expect(same.headers.get('idempotent-replayed')).toBe('true');
    expect(same.headers.get('x-edge-maas-privacy')).toBe('pii=off; retention=standard; region=eu');
    await same.text();
    const classified = await classifyWith(nowhere.url, key.key, { input: 'a fine film' }, { 'idempotency-key': 'p2' });
    expect(classified.status).toBe(403);
    expect((await errorOf(classified)).code).toBe('region_not_here');
  });
});

describe("a pinned key's stored data", () => {
  it('is read, listed and deleted only where the key is pinned: a uk file on the server with no region is a 403', async () => {
    const key = await pinnedKey('ukfiles', 'uk');
    const form = new FormData();
    form.append('purpose', 'fine-tune');
    form.append('file', new Blob(['{"text": "great", "label": "pos"}\n{"text": "awful", "label": "neg"}']), 'train.jsonl');
    const upload = await fetch(`${uk.server.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${key.key}` }, body: form });
    expect(upload.status).toBe(200);
    const id = ((await upload.json()) as { id: string }).id;
    const auth = { authorization: `Bearer ${key.key}` };
    for (const [method, path] of [['GET', `/v1/files/${id}/content`], ['GET', `/v1/files/${id}`], ['GET', '/v1/files'], ['DELETE', `/v1/files/${id}`], ['GET', '/v1/fine_tuning/jobs']] as const) {
      const res = await fetch(`${nowhere.url}${path}`, { method, headers: auth });
      expect(res.status, `${method} ${path}`).toBe(403);
      const error = await errorOf(res);
      expect(error.code).toBe('region_not_here');
      expect(JSON.stringify(error)).not.toContain('great');
    }
    const content = await fetch(`${uk.server.url}/v1/files/${id}/content`, { headers: auth });
    expect(content.status).toBe(200);
    expect(await content.text()).toContain('great');
    expect((await fetch(`${uk.server.url}/v1/files/${id}`, { method: 'DELETE', headers: auth })).status).toBe(200);
  });
});

describe('privacy PUT on a revoked key', () => {
  it('is a 409 key_revoked, as PATCH is, and the policy stays readable and unchanged', async () => {
    const key = await pinnedKey('revokedpin', 'uk');
    expect((await uk.admin.call('DELETE', `/keys/${key.id}`)).status).toBe(200);
    const put = await setPolicy(key.id, { region: 'eu' });
    expect(put.status).toBe(409);
    expect((put.body as any).error).toMatchObject({ code: 'key_revoked', param: 'id' });
    expect((await uk.admin.call('GET', `/keys/${key.id}/privacy`)).body).toMatchObject({ region: 'uk' });
    expect((await adminClient(nowhere.url).call('PUT', `/keys/${key.id}/privacy`, { pii: 'mask' })).status).toBe(409);
  });
});
