// The Files API through a real server with the official openai client: upload, list, retrieve, content, delete,
// every bad upload of issue 12 refused with its line and field and nothing stored, the size limit without reading
// the rest of a 100 MB upload, the storage quota, tenant isolation, and usage records that cost nothing.
import { request as httpRequest } from 'node:http';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonl, sst2Lines, startTuningServer, type Tenant, type TuningServer } from './routes-server.js';

const MiB = 1024 * 1024;
let server: TuningServer;
let small: TuningServer; // small limits: 4 KiB per file, 10 KiB stored per tenant
beforeAll(async () => {
  [server, small] = await Promise.all([startTuningServer(), startTuningServer({ limits: { maxUploadBytes: 4096, storageQuotaBytes: 10_240 } })]);
});
afterAll(async () => {
  await Promise.all([server?.close(), small?.close()]);
});

const client = (tenant: Tenant, on: TuningServer = server) => new OpenAI({ apiKey: on.keys[tenant], baseURL: `${on.url}/v1`, maxRetries: 0 });

const twoLabels = jsonl(['{"text": "a fine film", "label": "pos"}', '{"text": "a dull film", "label": "neg"}', '{"text": "great", "label": "pos"}']);

async function upload(bytes: Uint8Array | string, { tenant = 'acme' as Tenant, on = server, purpose = 'fine-tune', filename = 'train.jsonl' } = {}) {
  const form = new FormData();
  form.set('file', new Blob([bytes as BlobPart]), filename);
  form.set('purpose', purpose);
  const res = await fetch(`${on.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${on.keys[tenant]}` }, body: form });
  return { status: res.status, body: (await res.json()) as { error: { message: string; code: string; param: string | null } } & Record<string, unknown> };
}

async function refusal(call: () => Promise<unknown>): Promise<{ status: number; code: string; param: string | null; message: string }> {
  try {
    await call();
  } catch (error) {
    if (!(error instanceof OpenAI.APIError)) throw error;
    const body = error.error as { code: string; param: string | null; message: string };
    return { status: error.status!, code: body.code, param: body.param, message: body.message };
  }
  throw new Error('the call succeeded');
}

describe('the Files API with the official openai client', () => {
  it('uploads a training file, lists, retrieves, reads and deletes it (and its bytes)', async () => {
    const acme = client('acme');
    const bytes = jsonl(await sst2Lines(20));
    const file = await acme.files.create({ file: await toFile(bytes, 'train.jsonl'), purpose: 'fine-tune' });
    expect(file).toEqual({
      id: expect.stringMatching(/^file-[0-9a-z]{24}$/), object: 'file', bytes: bytes.length, created_at: expect.any(Number), filename: 'train.jsonl',
      purpose: 'fine-tune', status: 'processed', status_details: null, expires_at: null,
    });
    expect(Math.abs(file.created_at - Date.now() / 1000)).toBeLessThan(60);
    expect(await acme.files.retrieve(file.id)).toEqual(file);
    const listed = await acme.files.list();
    expect(listed.data.map((f) => f.id)).toContain(file.id);
    const content = await acme.files.content(file.id);
    expect(content.headers.get('content-type')).toBe('application/jsonl');
    expect(new Uint8Array(await content.arrayBuffer())).toEqual(bytes);
    const stored = await server.store.getFile('acme', file.id);
    expect(stored).toMatchObject({ rows: 20, labels: expect.arrayContaining(['negative', 'positive']) });

    expect(await acme.files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
    expect(await server.store.fileBytes('acme', file.id)).toBeNull();
    expect(await refusal(() => acme.files.retrieve(file.id))).toMatchObject({ status: 404, code: 'file_not_found' });
    expect(await refusal(() => acme.files.delete(file.id))).toMatchObject({ status: 404, code: 'file_not_found' });
  });

  it('pages like OpenAI: limit, has_more, after, first_id/last_id, order and purpose', async () => {
    const globex = client('globex');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await globex.files.create({ file: await toFile(twoLabels, `f${i}.jsonl`), purpose: 'fine-tune' })).id);
    const newestFirst = (await globex.files.list()).data.map((f) => f.id);
    expect(newestFirst.filter((id) => ids.includes(id))).toHaveLength(3);
    const first = await globex.files.list({ limit: 2 });
    expect(first.data.map((f) => f.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.has_more).toBe(true);
    const raw = await (await fetch(`${server.url}/v1/files?limit=2`, { headers: { authorization: `Bearer ${server.keys.globex}` } })).json() as Record<string, unknown>;
    expect(raw).toMatchObject({ object: 'list', has_more: true, first_id: newestFirst[0], last_id: newestFirst[1] });
    // The client follows has_more with after = the page's last id, to the end.
    const all: string[] = [];
    for await (const f of globex.files.list({ limit: 2 })) all.push(f.id);
    expect(all).toEqual(newestFirst);
    expect((await globex.files.list({ order: 'asc' })).data.map((f) => f.id)).toEqual([...newestFirst].reverse());
    expect((await globex.files.list({ order: 'asc', limit: 1, after: newestFirst.at(-1) })).data.map((f) => f.id)).toEqual([newestFirst.at(-2)]);
    expect((await globex.files.list({ purpose: 'fine-tune-results' })).data).toEqual([]);
    for (const query of ['limit=0', 'limit=10001', 'limit=x', 'order=up']) {
      const res = await fetch(`${server.url}/v1/files?${query}`, { headers: { authorization: `Bearer ${server.keys.globex}` } });
      expect(res.status, query).toBe(400);
    }
  });

  it('names a non-ASCII file in Content-Disposition with filename* (RFC 6266) beside an ASCII fallback', async () => {
    const { body } = await upload(twoLabels, { filename: 'critiques "été" 🎬.jsonl' });
    const res = await fetch(`${server.url}/v1/files/${body.id as string}/content`, { headers: { authorization: `Bearer ${server.keys.acme}` } });
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="critiques __t__ __.jsonl"; filename*=UTF-8''critiques%20%22%C3%A9t%C3%A9%22%20%F0%9F%8E%AC.jsonl`);
    const plain = await upload(twoLabels, { filename: 'plain.jsonl' });
    const plainRes = await fetch(`${server.url}/v1/files/${plain.body.id as string}/content`, { headers: { authorization: `Bearer ${server.keys.acme}` } });
    expect(plainRes.headers.get('content-disposition')).toBe('attachment; filename="plain.jsonl"');
  });

  it("answers another tenant's file exactly as an unknown one, on every route", async () => {
    const mine = await client('acme').files.create({ file: await toFile(twoLabels, 'mine.jsonl'), purpose: 'fine-tune' });
    const unknown = `file-${'0'.repeat(24)}`;
    const globex = client('globex');
    for (const call of [(id: string) => globex.files.retrieve(id), (id: string) => globex.files.content(id), (id: string) => globex.files.delete(id)]) {
      const theirs = await refusal(() => call(mine.id));
      const none = await refusal(() => call(unknown));
      expect(theirs).toMatchObject({ status: 404, code: 'file_not_found', param: 'file_id' });
      expect({ ...theirs, message: theirs.message.replace(mine.id, 'ID') }).toEqual({ ...none, message: none.message.replace(unknown, 'ID') });
    }
    expect((await globex.files.list()).data.map((f) => f.id)).not.toContain(mine.id);
    expect(await client('acme').files.retrieve(mine.id)).toMatchObject({ id: mine.id }); // still there
  });
});

describe('bad uploads', () => {
  const lines = (...rows: string[]) => jsonl(rows);
  const cases: [string, Uint8Array | string, { code: string; param: string; message: RegExp }][] = [
    ['not JSON lines', lines('{"text": "ok", "label": "a"}', 'text,label'), { code: 'invalid_training_file', param: 'file', message: /^line 2 is not JSON/ }],
    ['a row without text', lines('{"text": "ok", "label": "a"}', '{"label": "b"}'), { code: 'invalid_training_file', param: 'file', message: /^line 2: "text" is missing/ }],
    ['a row without label', lines('{"text": "ok", "label": "a"}', '{"text": "x", "label": "b"}', '{"text": "y"}'), { code: 'invalid_training_file', param: 'file', message: /^line 3: "label" is missing/ }],
    ['one label only', lines('{"text": "ok", "label": "a"}', '{"text": "fine", "label": "a"}'), { code: 'invalid_training_file', param: 'file', message: /1 label \("a"\)/ }],
    ['over 100 labels', lines(...Array.from({ length: 101 }, (_, i) => JSON.stringify({ text: `t${i}`, label: `l${i}` }))), { code: 'invalid_training_file', param: 'file', message: /^line 101: "label"/ }],
    ['an empty text', lines('{"text": "ok", "label": "a"}', '{"text": "  ", "label": "b"}'), { code: 'invalid_training_file', param: 'file', message: /^line 2: "text" is empty/ }],
    ['a chat-format file', lines('{"messages": [{"role": "user", "content": "hi"}]}'), { code: 'invalid_training_file', param: 'file', message: /chat-format/ }],
    ['an empty file', '', { code: 'invalid_training_file', param: 'file', message: /empty/ }],
  ];

  it.each(cases)('refuses %s with a 400 naming the line and field, and stores nothing', async (_, bytes, expected) => {
    const before = await server.store.storedBytes('acme');
    const { status, body } = await upload(bytes);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: expected.code, param: expected.param, message: expect.stringMatching(expected.message) });
    expect(await server.store.storedBytes('acme')).toBe(before);
  });

  it('refuses another purpose, a missing file part, a text field as the file, and a body that is not multipart', async () => {
    expect((await upload(twoLabels, { purpose: 'assistants' })).body.error).toMatchObject({ code: 'invalid_request', param: 'purpose' });
    const auth = { authorization: `Bearer ${server.keys.acme}` };
    const purposeOnly = new FormData();
    purposeOnly.set('purpose', 'fine-tune');
    let res = await fetch(`${server.url}/v1/files`, { method: 'POST', headers: auth, body: purposeOnly });
    expect([res.status, ((await res.json()) as { error: { param: string } }).error.param]).toEqual([400, 'file']);
    const textField = new FormData();
    textField.set('file', '{"text": "a", "label": "b"}');
    textField.set('purpose', 'fine-tune');
    res = await fetch(`${server.url}/v1/files`, { method: 'POST', headers: auth, body: textField });
    expect([res.status, ((await res.json()) as { error: { param: string } }).error.param]).toEqual([400, 'file']);
    res = await fetch(`${server.url}/v1/files`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"file": "x"}' });
    expect([res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([415, 'unsupported_media_type']);
    res = await fetch(`${server.url}/v1/files`, { method: 'POST', headers: { ...auth, 'content-type': 'multipart/form-data; boundary=xyz' }, body: 'not multipart at all' });
    expect([res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([400, 'invalid_multipart']);
  });
});

/** Sends a 100 MB body made as it is sent (never held), chunked or with its Content-Length; stops when answered. */
function hugeUpload(url: string, key: string, { declareLength }: { declareLength: boolean }): Promise<{ status: number; body: { error: { code: string } }; sentBytes: number }> {
  const total = 100 * 1000 * 1000;
  const boundary = 'edgemaasboundary';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jsonl"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const chunk = Buffer.from(`${JSON.stringify({ text: 'x'.repeat(1000), label: 'a' })}\n`.repeat(64));
  return new Promise((done, fail) => {
    let sentBytes = 0;
    let answered = false;
    const req = httpRequest(`${url}/v1/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': `multipart/form-data; boundary=${boundary}`, ...(declareLength ? { 'content-length': String(total) } : {}) },
    });
    const pump = () => {
      while (!answered && sentBytes < total) {
        const piece = sentBytes === 0 ? head : chunk.subarray(0, Math.min(chunk.length, total - sentBytes));
        sentBytes += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        req.destroy();
        done({ status: res.statusCode!, body: JSON.parse(text), sentBytes });
      });
    });
    req.on('error', (error) => {
      if (!answered) fail(error);
    });
    pump();
  });
}

describe('size and quota', () => {
  it('answers a 100 MB chunked upload 413 file_too_large once 32 MiB are read, without reading the rest', async () => {
    const { status, body, sentBytes } = await hugeUpload(server.url, server.keys.acme, { declareLength: false });
    expect(status).toBe(413);
    expect(body.error.code).toBe('file_too_large');
    // What the client got into the socket before the answer: the 32 MiB read, plus what the kernel buffers held.
    expect(sentBytes).toBeGreaterThan(32 * MiB);
    expect(sentBytes).toBeLessThan(64 * MiB);
  }, 30_000);

  it('answers a 100 MB upload with its Content-Length at once, before its body is read', async () => {
    const { status, body, sentBytes } = await hugeUpload(server.url, server.keys.acme, { declareLength: true });
    expect(status).toBe(413);
    expect(body.error.code).toBe('file_too_large');
    expect(sentBytes).toBeLessThan(16 * MiB);
  }, 30_000);

  it('holds the file to the largest upload exactly, and the tenant to its quota (402), storing nothing then', async () => {
    const row = (i: number) => JSON.stringify({ text: `row ${i} ${'w'.repeat(80)}`, label: i % 2 ? 'odd' : 'even' });
    const fits = jsonl(Array.from({ length: 40 }, (_, i) => row(i)).filter((_, i, all) => jsonl(all.slice(0, i + 1)).length <= 4096));
    const over = jsonl([...new TextDecoder().decode(fits).trim().split('\n'), row(99)]);
    expect(fits.length).toBeLessThanOrEqual(4096);
    expect(over.length).toBeGreaterThan(4096);
    const tooLarge = await upload(over, { on: small });
    expect([tooLarge.status, tooLarge.body.error.code, tooLarge.body.error.param]).toEqual([413, 'file_too_large', 'file']);

    // 10 KiB of quota: two files of up to 4 KiB fit, a third does not.
    const stored = [await upload(fits, { on: small }), await upload(fits, { on: small })];
    expect(stored.map((s) => s.status)).toEqual([200, 200]);
    const refused = await upload(fits, { on: small });
    expect(refused.status).toBe(402);
    expect(refused.body.error).toMatchObject({ code: 'storage_quota_exceeded', param: 'file' });
    expect(await small.store.storedBytes('acme')).toBe(2 * fits.length);
    // Another tenant's quota is its own.
    expect((await upload(fits, { on: small, tenant: 'globex' })).status).toBe(200);
    // Deleting makes room again.
    await client('acme', small).files.delete(stored[0]!.body.id as string);
    expect((await upload(fits, { on: small })).status).toBe(200);
  });
});

describe('the routes in the app', () => {
  it('bill file requests at nothing: usage records with no model and cost 0', async () => {
    await client('acme').files.list();
    await upload(twoLabels);
    const rows = (await server.usage()).filter((r) => r.route.includes('/v1/files'));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.cost_micro_usd === 0 && r.model === null)).toBe(true);
    expect(rows.some((r) => r.route === 'POST /v1/files' && r.status === 200 && r.tenant_id === 'acme')).toBe(true);
  });

  it('need a key (billing runs on them as on every /v1 route)', async () => {
    const res = await fetch(`${server.url}/v1/files`);
    expect(res.status).toBe(401);
  });

  it('are in the OpenAPI document, and a method a path does not have is a 405 with Allow', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/v1/files']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/v1/files/{file_id}']!).sort()).toEqual(['delete', 'get']);
    expect(doc.paths['/v1/files/{file_id}/content']).toHaveProperty('get');
    expect(Object.keys(doc.paths['/v1/fine_tuning/jobs']!).sort()).toEqual(['get', 'post']);
    expect(doc.paths['/v1/fine_tuning/jobs/{fine_tuning_job_id}/cancel']).toHaveProperty('post');
    expect(doc.paths['/v1/fine_tuning/jobs/{fine_tuning_job_id}/events']).toHaveProperty('get');
    const res = await fetch(`${server.url}/v1/files`, { method: 'PUT', headers: { authorization: `Bearer ${server.keys.acme}` } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toMatch(/GET.*POST|POST.*GET/);
  });
});
