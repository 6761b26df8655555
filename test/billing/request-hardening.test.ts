// What a careless or hostile client can do to billing, against a real server on 127.0.0.1 with an SQLite file:
// reuse request ids, send chunked or compressed bodies, replay Idempotency-Keys with other bodies, hang up mid-upload.
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { startServer } from '../../functions/node/start-server.js';
import { classifyWith, useKeysServer } from './helpers.js';
import { priceOf } from './prices.js';
import { registryPrice } from './registry-price.js';
import { sqliteRows } from './sqlite-rows.js';

const ctx = useKeysServer();

const rows = async (sql: string, ...params: unknown[]) => {
  await ctx.server.billing!.writer.flush();
  return sqliteRows(ctx.db.path, sql, ...params);
};

const chunked = (text: string) => new ReadableStream<Uint8Array>({
  start(controller) {
    const bytes = new TextEncoder().encode(text);
    for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.slice(i, i + 7));
    controller.close();
  },
});

const METERED_ROUTES = [
  ['/v1/classify', { input: 'a fine film' }],
  ['/models/sentiment', { inputs: 'a fine film' }],
  ['/v1/completions', { model: 'stories260K', prompt: 'Once', max_tokens: 3 }],
  ['/v1/chat/completions', { model: 'stories260K', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3 }],
] as const;

describe('usage records', () => {
  it('are one per request with an id of their own, whatever x-request-id clients send', async () => {
    const [a, b] = [await ctx.admin.key('ids_a'), await ctx.admin.key('ids_b')];
    const sent = await Promise.all(Array.from({ length: 5 }, (_, i) => classifyWith(ctx.server.url, i % 2 ? a.key : b.key, undefined, { 'x-request-id': 'same-id' })));
    expect(sent.map((r) => r.headers.get('x-request-id'))).toEqual(Array(5).fill('same-id'));
    const usage = await rows("SELECT id, request_id FROM usage WHERE tenant_id IN ('ids_a', 'ids_b')");
    expect(usage).toHaveLength(5);
    expect(new Set(usage.map((u) => u.id)).size).toBe(5);
    const events = ((await ctx.admin.call('GET', '/billing/export')).body as string).trim().split('\n').map((l) => JSON.parse(l) as { identifier: string });
    const ours = events.filter((e) => usage.some((u) => u.id === e.identifier));
    expect(ours).toHaveLength(5);
  });

  it.each(METERED_ROUTES)('keep the request id of a chunked body on %s', async (path, body) => {
    const { key } = await ctx.admin.key(`chunked_${path.replace(/\W/g, '')}`);
    const ids = ['chunk-1', 'chunk-2', 'chunk-3'];
    for (const id of ids) {
      const res = await fetch(`${ctx.server.url}${path}`, {
        method: 'POST', duplex: 'half', body: chunked(JSON.stringify(body)),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-request-id': id },
      } as RequestInit);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBe(id);
      await res.arrayBuffer();
    }
    const usage = await rows('SELECT request_id, status FROM usage WHERE tenant_id = ? ORDER BY created_at', `chunked_${path.replace(/\W/g, '')}`);
    expect(usage.map((u) => u.request_id).sort()).toEqual(ids);
  });
});

describe('Idempotency-Key', () => {
  const post = (key: string, path: string, body: unknown, idem: string) => fetch(`${ctx.server.url}${path}`, {
    method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'idempotency-key': idem },
  });

  it('refuses the same key with another body (422), runs and bills nothing for it', async () => {
    const { key } = await ctx.admin.key('idem_mismatch');
    expect((await post(key, '/v1/classify', { input: 'one text' }, 'k1')).status).toBe(200);
    const other = await post(key, '/v1/classify', { input: Array(64).fill('sixty-four texts') }, 'k1');
    expect(other.status).toBe(422);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('idempotency_key_reused');
    const billed = await rows("SELECT status, cost_micro_usd, input_tokens FROM usage WHERE tenant_id = 'idem_mismatch' ORDER BY created_at");
    const cost = priceOf(await registryPrice('sst2-bert'), 4, 0);
    expect(billed).toEqual([{ status: 200, cost_micro_usd: cost, input_tokens: 4 }, { status: 422, cost_micro_usd: 0, input_tokens: 0 }]);
  });

  it.each([false, true])('replays a sampled generation (stream: %s) with the stored answer, not a new one', async (stream) => {
    const { key } = await ctx.admin.key(`idem_gen_${stream}`);
    const body = { model: 'stories260K', prompt: 'Once upon a time', max_tokens: 24, temperature: 1, stream };
    const first = await post(key, '/v1/completions', body, 'story-1');
    const firstText = await first.text();
    const again = await post(key, '/v1/completions', body, 'story-1');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.text()).toBe(firstText);
    const billed = await rows('SELECT idempotent_replay, cost_micro_usd > 0 AS billed FROM usage WHERE tenant_id = ? ORDER BY created_at', `idem_gen_${stream}`);
    expect(billed).toEqual([{ idempotent_replay: 0, billed: 1 }, { idempotent_replay: 1, billed: 0 }]);
  });

  it('keeps no refusal: a request refused (402, 400) with a key leaves it free for a retry that can succeed', async () => {
    const { key } = await ctx.admin.key('idem_refused', { monthly_budget_micro_usd: 0 });
    expect((await post(key, '/v1/classify', { input: 'a fine film' }, 'refused-1')).status).toBe(402);
    expect((await post(key, '/v1/classify', { input: '' }, 'refused-2')).status).toBe(400);
    expect(await rows("SELECT idempotency_key FROM idempotency_keys WHERE idempotency_key LIKE 'refused-%'")).toEqual([]);
  });

  it('tells requests apart by their query string too', async () => {
    const { key } = await ctx.admin.key('idem_query');
    expect((await post(key, '/v1/classify', { input: 'a fine film' }, 'q-1')).status).toBe(200);
    expect((await post(key, '/v1/classify?x=1', { input: 'a fine film' }, 'q-1')).status).toBe(422);
  });

  it('answers 409 while the first request still runs', async () => {
    const { key } = await ctx.admin.key('idem_busy');
    const body = { model: 'stories260K', prompt: 'Once upon a time', max_tokens: 400, stream: true };
    const running = await post(key, '/v1/completions', body, 'busy-1');
    const meanwhile = await post(key, '/v1/completions', body, 'busy-1');
    expect(meanwhile.status).toBe(409);
    expect(meanwhile.headers.get('retry-after')).toBe('1');
    await running.text();
  });
});

describe('bodies', () => {
  it('are decoded when gzip-compressed, refused in an unknown encoding (415), and bounded once decoded (413)', async () => {
    const { key } = await ctx.admin.key('encodings');
    const send = (body: Uint8Array, encoding: string) => fetch(`${ctx.server.url}/v1/classify`, {
      method: 'POST', body: body as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/json', 'content-encoding': encoding, authorization: `Bearer ${key}` },
    });
    const zipped = await send(gzipSync(JSON.stringify({ input: 'a wonderful, heartfelt film' })), 'gzip');
    expect(zipped.status).toBe(200);
    expect(((await zipped.json()) as { results: { label: string }[][] }).results[0]![0]!.label).toBe('POSITIVE');
    expect((await send(new Uint8Array([1, 2, 3]), 'br')).status).toBe(415);
    const bomb = gzipSync(`{"input":"${' '.repeat(8 * 1024 * 1024)}"}`); // 8 MB of spaces in 8 KB
    expect((await send(bomb, 'gzip')).status).toBe(413);
    expect((await send(new Uint8Array([1, 2, 3]), 'gzip')).status).toBe(400);
  });

  it('over the size limit (413) are never metered (here: once decoded; a raw one never reaches billing); a 400 before the model ran is, at cost 0', async () => {
    const { key } = await ctx.admin.key('too_large');
    const post = (body: BodyInit, headers: Record<string, string> = {}) => fetch(`${ctx.server.url}/v1/classify`, {
      method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, duplex: 'half',
    } as RequestInit);
    const bomb = gzipSync(`{"input":"${' '.repeat(8 * 1024 * 1024)}"}`) as Uint8Array<ArrayBuffer>;
    const statuses = [
      (await post(bomb, { 'content-encoding': 'gzip' })).status, // too large once decoded, in the route
      (await post(bomb, { 'content-encoding': 'gzip', 'idempotency-key': 'too-large-1' })).status, // read by billing for its hash first
      (await post(JSON.stringify({ input: 42 }))).status,
    ];
    expect(statuses).toEqual([413, 413, 400]);
    const usage = await rows("SELECT status, cost_micro_usd FROM usage WHERE tenant_id = 'too_large'");
    expect(usage).toEqual([{ status: 400, cost_micro_usd: 0 }]);
  });

  it.each(['/v1/completions', '/v1/chat/completions', '/v1/classify'])('nested too deep are refused (400) on %s, not a 500', async (path) => {
    const { key } = await ctx.admin.key(`nesting_${path.replace(/\W/g, '')}`);
    const deep = `{"model": "stories260K", "prompt": "x", "messages": [], "input": "x", "extra": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const res = await fetch(`${ctx.server.url}${path}`, { method: 'POST', body: deep, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('too_deeply_nested');
    // Strings that look like brackets are not nesting.
    const ok = await classifyWith(ctx.server.url, key, { input: '[[[[{{{{'.repeat(20) });
    expect(ok.status).toBe(200);
  });

  it('in another charset than UTF-8 are refused (415)', async () => {
    const { key } = await ctx.admin.key('charset');
    const res = await fetch(`${ctx.server.url}/v1/classify`, { method: 'POST', body: '{"input": "fine"}', headers: { 'content-type': 'application/json; charset=utf-16', authorization: `Bearer ${key}` } });
    expect(res.status).toBe(415);
  });

  it('chunked and cut short by a client that hangs up are a 499 row too', async () => {
    const { key } = await ctx.admin.key('hangup_chunked');
    const url = new URL(ctx.server.url);
    const { connect } = await import('node:net');
    await new Promise<void>((done) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(`POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer ${key}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"inp\r\n`);
        setTimeout(() => socket.destroy(), 100);
      });
      socket.on('close', () => done());
      socket.on('error', () => done());
    });
    await expect.poll(async () => (await rows("SELECT status, cost_micro_usd FROM usage WHERE tenant_id = 'hangup_chunked'")), { timeout: 5_000 }).toEqual([{ status: 499, cost_micro_usd: 0 }]);
  });

  it('cut short by a client that hangs up are a client error: no 5xx, nothing billed, no error logged', async () => {
    const { key } = await ctx.admin.key('hangup');
    const errors = vi.spyOn(console, 'error');
    const url = new URL(ctx.server.url);
    await new Promise<void>((done) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: '/v1/classify', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 5000, authorization: `Bearer ${key}` } });
      req.on('error', () => done());
      req.write('{"input": "half a bo');
      setTimeout(() => req.destroy(), 100);
      req.on('close', () => done());
    });
    await expect.poll(async () => (await rows("SELECT status, cost_micro_usd FROM usage WHERE tenant_id = 'hangup'")), { timeout: 5_000 }).toEqual([{ status: 499, cost_micro_usd: 0 }]);
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
  });
});

describe('limits and ranges', () => {
  it('refuses key limits past their bounds', async () => {
    await ctx.admin.call('POST', '/tenants', { id: 'bounds' });
    for (const limits of [{ rpm: 1e308 }, { tpm: 1e12 }, { monthly_budget_micro_usd: 1e20 }]) {
      expect((await ctx.admin.call('POST', '/keys', { tenant: 'bounds', ...limits })).status).toBe(400);
    }
  });

  it.each(['1', '2026-02-31', '2026-11-01T10:00', 'yesterday', '2026-13-01'])('refuses the usage range from=%s', async (from) => {
    const { key } = await ctx.admin.key('ranges');
    const res = await fetch(`${ctx.server.url}/v1/usage?from=${encodeURIComponent(from)}`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('from');
  });
});

describe('open mode', () => {
  it('shows only usage made without a key, never a tenant\'s from the same file', async () => {
    const { key } = await ctx.admin.key('private_tenant');
    expect((await classifyWith(ctx.server.url, key)).status).toBe(200);
    await ctx.server.billing!.writer.flush();
    const open = await startServer({ port: 0, auth: 'open', usageDb: ctx.db.path, generation: false });
    try {
      expect((await classifyWith(open.url, null)).status).toBe(200);
      const res = await fetch(`${open.url}/v1/usage?group_by=key`);
      const body = (await res.json()) as { tenant: string | null; data: { key: string; requests: number }[] };
      expect(body.tenant).toBeNull();
      expect(body.data).toEqual([expect.objectContaining({ key: '(open)', requests: 1 })]);
    } finally {
      await open.close();
    }
  });
});
