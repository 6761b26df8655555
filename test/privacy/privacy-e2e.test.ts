/**
 * The privacy policy end to end: the real Node server (keys mode, SQLite file, admin API) in front of an upstream
 * that is a real HTTP server on 127.0.0.1 recording every body it receives. In mask mode no value reaches the
 * upstream and the client sees none in the answer (JSON or a stream whose values are split across chunks); in
 * block mode the upstream receives nothing; retention=none leaves nothing in any store but the usage record.
 */
import { readdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeysServer, type KeysServer } from '../billing/helpers.js';
import { sqliteRows } from '../billing/sqlite-rows.js';

const EMAIL = 'jane.doe@example.com';
const PHONE = '+44 20 7946 0958';
const CARD = '4111 1111 1111 1111';
const IBAN = 'DE89370400440532013000';
const SSN = '123-45-6789';
const IP = '203.0.113.45';
const VALUES = [EMAIL, PHONE, CARD, IBAN, SSN, IP];
const PROMPT = `I am ${EMAIL}, phone ${PHONE}, card ${CARD}, IBAN ${IBAN}, SSN ${SSN}, from ${IP}. Order #A-10023 of 2024-03-15, v1.2.3, $1,234.56.`;

/** What the upstream streams: values cut across chunks, as a tokenizer would. */
const STREAMED = ['Sure. Write to jane.d', 'oe@example.com or call +44 20 ', '7946 0958; the card ', '4111 1111 1111 1111 is on file. ', 'Done.'];

interface Recorder {
  url: string;
  bodies: string[];
  close(): Promise<void>;
}

async function recordingUpstream(): Promise<Recorder> {
  const bodies: string[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    let body = '';
    for await (const chunk of req) body += chunk;
    bodies.push(body);
    const request = JSON.parse(body) as { stream?: boolean; messages?: unknown };
    const chat = request.messages !== undefined;
    const base = { id: 'x1', created: 1, model: 'stories260K' };
    if (!request.stream) {
      const text = `Echo: ${EMAIL} and ${PHONE}.`;
      const choice = chat ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' } : { index: 0, text, finish_reason: 'stop' };
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ ...base, object: chat ? 'chat.completion' : 'text_completion', choices: [choice], usage: { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 } }));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const object = chat ? 'chat.completion.chunk' : 'text_completion';
    const event = (choice: Record<string, unknown>, n: number) =>
      `data: ${JSON.stringify({ ...base, object, choices: [{ index: 0, ...choice }], usage: { prompt_tokens: 9, completion_tokens: n, total_tokens: 9 + n } })}\n\n`;
    for (const [i, piece] of STREAMED.entries()) {
      res.write(event(chat ? { delta: { content: piece }, finish_reason: null } : { text: piece, finish_reason: null }, i + 1));
      await new Promise((r) => setTimeout(r, 5));
    }
    res.write(event(chat ? { delta: {}, finish_reason: 'stop' } : { text: '', finish_reason: 'stop' }, STREAMED.length));
    res.end('data: [DONE]\n\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

let upstream: Recorder;
let running: KeysServer;
let dbFile: string;

beforeAll(async () => {
  upstream = await recordingUpstream();
  running = await startKeysServer({ generationUrl: upstream.url, upstreamIdleTimeoutMs: 5_000 });
  dbFile = running.db.path;
});
afterAll(async () => {
  await running?.close();
  await upstream?.close();
});

const chat = (key: string, stream: boolean, headers: Record<string, string> = {}) =>
  fetch(`${running.server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: PROMPT }], max_tokens: 16, stream, user: EMAIL, stop: ['\n\n', `Bye ${EMAIL}`] }),
  });

const setPolicy = (scope: 'keys' | 'tenants', id: string, body: unknown) => running.admin.call('PUT', `/${scope}/${id}/privacy`, body);

const holdsNoValue = (text: string) => {
  for (const value of VALUES) expect(text, `"${value}" got through`).not.toContain(value);
};

/** Each SSE event of a body, checked for its framing: `data: <JSON or [DONE]>`. */
function events(body: string): string[] {
  expect(body.endsWith('\n\n')).toBe(true);
  const out = body.slice(0, -2).split('\n\n');
  for (const e of out) expect(e).toMatch(/^data: (\{.*\}|\[DONE\])$/s);
  return out.map((e) => e.slice(6));
}

describe('privacy policy through a real server', () => {
  it('admin API: sets and reads a key policy, refuses unknown fields and values naming them, and keeps the previous policy', async () => {
    const key = await running.admin.key('acme');
    expect((await running.admin.call('GET', `/keys/${key.id}/privacy`)).body).toMatchObject({ pii: 'off', retention: 'standard', source: 'default' });
    expect((await setPolicy('keys', key.id, { pii: 'mask' })).body).toMatchObject({ pii: 'mask', retention: 'standard', source: 'key' });
    const badValue = await setPolicy('keys', key.id, { pii: 'masked' });
    expect(badValue.status).toBe(400);
    expect((badValue.body as any).error).toMatchObject({ param: 'pii', code: 'invalid_value' });
    const badField = await setPolicy('keys', key.id, { pii: 'block', residency: 'eu' });
    expect(badField.status).toBe(400);
    expect((badField.body as any).error).toMatchObject({ param: 'residency', code: 'unknown_field' });
    expect((await running.admin.call('GET', `/keys/${key.id}/privacy`)).body).toMatchObject({ pii: 'mask', retention: 'standard' });
    expect((await setPolicy('keys', 'key_nope', { pii: 'mask' })).status).toBe(404);
    expect((await setPolicy('tenants', 'nobody', { pii: 'mask' })).status).toBe(404);
    expect((await running.admin.call('PUT', `/keys/${key.id}/privacy`, { pii: 'off' }, 'wrong-token')).status).toBe(401);
  });

  it('says a classification was not scanned (its text never left the process), not that it held no personal data', async () => {
    const key = await running.admin.key('classifyco');
    await setPolicy('keys', key.id, { pii: 'mask' });
    const res = await fetch(`${running.server.url}/v1/classify`, {
      method: 'POST', headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'mail john.doe@example.com about card 4111 1111 1111 1111' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-edge-maas-pii')).toBe('not-scanned');
    expect(res.headers.get('x-edge-maas-privacy')).toBe('pii=mask; retention=standard');
  });

  it('mask: no value reaches the upstream, the answer is masked, and a header counts what was found per kind', async () => {
    const key = await running.admin.key('maskco');
    await setPolicy('keys', key.id, { pii: 'mask' });
    const before = upstream.bodies.length;
    const res = await chat(key.key, false);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-edge-maas-pii')).toBe('email=3, phone=1, card=1, iban=1, ip=1, ssn=1');
    expect(res.headers.get('x-edge-maas-privacy')).toBe('pii=mask; retention=standard');
    const answer = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(answer.choices[0]!.message.content).toBe('Echo: [EMAIL] and [PHONE].');
    expect(upstream.bodies.length).toBe(before + 1);
    const sent = upstream.bodies.at(-1)!;
    holdsNoValue(sent);
    const message = (JSON.parse(sent) as { messages: { content: string }[]; user: string }).messages[0]!.content;
    expect(message).toBe('I am [EMAIL], phone [PHONE], card [CARD], IBAN [IBAN], SSN [SSN], from [IP]. Order #A-10023 of 2024-03-15, v1.2.3, $1,234.56.');
    expect(JSON.parse(sent)).toMatchObject({ user: '[EMAIL]', stop: ['\n\n', 'Bye [EMAIL]'] });
  });

  it('mask on a stream: every event keeps its SSE framing, values split across chunks are masked whole', async () => {
    const key = await running.admin.key('streamco');
    await running.admin.call('PUT', `/tenants/streamco/privacy`, { pii: 'mask' });
    const res = await chat(key.key, true);
    expect(res.status).toBe(200);
    const body = await res.text();
    holdsNoValue(body);
    const datas = events(body);
    expect(datas.at(-1)).toBe('[DONE]');
    const parsed = datas.slice(0, -1).map((d) => JSON.parse(d) as { choices: { delta: { content?: string }; finish_reason: string | null }[] });
    const text = parsed.map((p) => p.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Sure. Write to [EMAIL] or call [PHONE]; the card [CARD] is on file. Done.');
    expect(parsed.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    holdsNoValue(upstream.bodies.at(-1)!);
  });

  it('block: a 400 naming the kinds found (never the values), and the upstream receives nothing', async () => {
    const key = await running.admin.key('blockco');
    await setPolicy('tenants', 'blockco', { pii: 'block' });
    const before = upstream.bodies.length;
    const res = await chat(key.key, false);
    expect(res.status).toBe(400);
    const error = ((await res.json()) as { error: { message: string; code: string; param: string } }).error;
    expect(error.code).toBe('pii_blocked');
    expect(error.param).toBe('messages[0].content');
    expect(error.message).toContain('email, phone, card, iban, ip, ssn');
    holdsNoValue(JSON.stringify(error));
    expect(upstream.bodies.length).toBe(before);
    // A key's own policy wins over its tenant's default.
    await setPolicy('keys', key.id, { pii: 'mask' });
    expect((await chat(key.key, false)).status).toBe(200);
    expect(upstream.bodies.length).toBe(before + 1);
  });

  it('every string a body sends upstream is screened: names, suffix, metadata, tool descriptions, fields no schema names, keys and long numbers', async () => {
    const key = await running.admin.key('fieldsco');
    await setPolicy('keys', key.id, { pii: 'mask' });
    const send = (path: string, body: Record<string, unknown>) => fetch(`${running.server.url}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key.key}` }, body: JSON.stringify({ model: 'stories260K', max_tokens: 8, ...body }),
    });
    const before = upstream.bodies.length;
    const chatRes = await send('/v1/chat/completions', {
      messages: [{ role: 'user', name: EMAIL, content: 'hello' }],
      metadata: { customer: EMAIL, type: EMAIL, [EMAIL]: 'as a key', [`x${EMAIL}`]: 'another key', negative: -4111111111111111, fraction: 0.4111111111111111, float: 0.30000000000000004 },
      response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { type: 'object', properties: { role: { type: 'string', description: EMAIL } } } } },
      tools: [{ type: 'function', function: { name: 'lookup', description: `call ${PHONE}`, parameters: { type: 'object', properties: { q: { type: 'string', description: `card ${CARD}` } } } } }],
      x_unknown: { nested: [`ssn ${SSN}`] },
      seed: 4111111111111111,
    });
    expect(chatRes.status).toBe(200);
    const completionRes = await send('/v1/completions', { prompt: 'Once upon a time', suffix: EMAIL });
    expect(completionRes.status).toBe(200);
    expect(upstream.bodies.length).toBe(before + 2);
    for (const sent of upstream.bodies.slice(before)) holdsNoValue(sent);
    const chatSent = JSON.parse(upstream.bodies[before]!) as Record<string, unknown>;
    expect(chatSent).toMatchObject({ model: 'stories260K', messages: [{ role: 'user', name: '[EMAIL]', content: 'hello' }], metadata: { customer: '[EMAIL]', type: '[EMAIL]', '[EMAIL]': 'as a key', '[EMAIL] 2': 'another key', negative: ' [CARD]', fraction: '0 [CARD]', float: 0.30000000000000004 }, seed: '[CARD]' });
    expect(chatSent.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'r', schema: { type: 'object', properties: { role: { type: 'string', description: '[EMAIL]' } } } } });
    expect(chatSent.tools).toEqual([{ type: 'function', function: { name: 'lookup', description: 'call [PHONE]', parameters: { type: 'object', properties: { q: { type: 'string', description: 'card [CARD]' } } } } }]);
    expect(JSON.parse(upstream.bodies[before + 1]!)).toMatchObject({ prompt: 'Once upon a time', suffix: '[EMAIL]' });
    // Under block the same body is refused, naming where the first value was found; the upstream gets nothing.
    await setPolicy('keys', key.id, { pii: 'block' });
    const refused = await send('/v1/completions', { prompt: 'Once upon a time', suffix: EMAIL });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { param: string } }).error.param).toBe('suffix');
    // A field name that is itself personal data: the error names the object holding it, never the name.
    const keyRefused = await send('/v1/chat/completions', { messages: [{ role: 'user', content: 'hello' }], metadata: { [EMAIL]: 'as a key' } });
    expect(keyRefused.status).toBe(400);
    const keyError = await keyRefused.text();
    expect(keyError).not.toContain(EMAIL);
    expect((JSON.parse(keyError) as { error: { param: string; message: string } }).error).toMatchObject({ param: 'metadata', message: expect.stringContaining('a field name in metadata') });
    expect(upstream.bodies.length).toBe(before + 2);
  });

  it('the request header only makes a request stricter; an unknown setting or value is a 400 naming the header', async () => {
    const key = await running.admin.key('headerco');
    const before = upstream.bodies.length;
    const masked = await chat(key.key, false, { 'x-edge-maas-privacy': 'pii=mask' });
    expect(masked.status).toBe(200);
    holdsNoValue(upstream.bodies.at(-1)!);
    await setPolicy('keys', key.id, { pii: 'block' });
    const laxer = await chat(key.key, false, { 'x-edge-maas-privacy': 'pii=off' });
    expect(laxer.status).toBe(400);
    expect(upstream.bodies.length).toBe(before + 1);
    for (const header of ['pii=maybe', 'jurisdiction=eu', 'region=mars']) {
      const bad = await chat(key.key, false, { 'x-edge-maas-privacy': header });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('x-edge-maas-privacy');
    }
    // A bad value or name that is itself personal data is named by its kind, never echoed.
    for (const header of [`pii=${EMAIL}`, `pii=mask; ${EMAIL}=on`]) {
      const bad = await chat(key.key, false, { 'x-edge-maas-privacy': header });
      expect(bad.status).toBe(400);
      const text = await bad.text();
      expect(text).not.toContain(EMAIL);
      expect(text).toContain('personal data (email)');
    }
    expect(upstream.bodies.length).toBe(before + 1);
  });

  it('training files: masked before they are stored (mask), refused naming the line (block)', async () => {
    const key = await running.admin.key('filesco');
    await setPolicy('keys', key.id, { pii: 'mask' });
    const lines = [`{"text": "great, mail me at ${EMAIL}", "label": "pos"}`, `{"text": "awful, call ${PHONE}", "label": "neg"}`, '{"text": "fine film", "label": "pos"}'];
    const upload = (text: string) => {
      const form = new FormData();
      form.append('purpose', 'fine-tune');
      form.append('file', new Blob([text]), 'train.jsonl');
      return fetch(`${running.server.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${key.key}` }, body: form });
    };
    const stored = await upload(lines.join('\n'));
    expect(stored.status).toBe(200);
    const id = ((await stored.json()) as { id: string }).id;
    const content = await (await fetch(`${running.server.url}/v1/files/${id}/content`, { headers: { authorization: `Bearer ${key.key}` } })).text();
    holdsNoValue(content);
    expect(content.split('\n').map((l) => JSON.parse(l).text)).toEqual(['great, mail me at [EMAIL]', 'awful, call [PHONE]', 'fine film']);
    await setPolicy('keys', key.id, { pii: 'block' });
    const refused = await upload(lines.join('\n'));
    expect(refused.status).toBe(400);
    const error = ((await refused.json()) as { error: { message: string; param: string } }).error;
    expect(error).toMatchObject({ param: 'file' });
    expect(error.message).toContain('file line 1');
    holdsNoValue(error.message);
  });

  it('retention=none: no training file, no idempotent replay; every store read after the run holds only the usage records', async () => {
    const key = await running.admin.key('zeroco');
    await setPolicy('keys', key.id, { retention: 'none' });
    const other = await running.admin.key('keptco');
    const tablesBefore = counts();
    const form = new FormData();
    form.append('purpose', 'fine-tune');
    form.append('file', new Blob(['{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}']), 'train.jsonl');
    const upload = await fetch(`${running.server.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${key.key}` }, body: form });
    expect(upload.status).toBe(403);
    expect(((await upload.json()) as { error: { code: string } }).error.code).toBe('retention_forbids_storage');
    for (const stream of [false, true]) {
      const res = await chat(key.key, stream, { 'idempotency-key': `zero-${stream}` });
      expect(res.status).toBe(200);
      await res.text();
      const again = await chat(key.key, stream, { 'idempotency-key': `zero-${stream}` });
      expect(again.headers.get('idempotent-replayed')).toBeNull(); // ran again: nothing was kept to replay
      await again.text();
    }
    // The same request under a standard policy is kept (the check can fail): the store is real and wrapped, not off.
    await (await chat(other.key, false, { 'idempotency-key': 'kept' })).text();
    expect((await chat(other.key, false, { 'idempotency-key': 'kept' })).headers.get('idempotent-replayed')).toBe('true');
    await running.server.billing!.writer.flush();
    const after = counts();
    const grew = Object.keys(after).filter((table) => after[table] !== tablesBefore[table]);
    // The usage records and their monthly spend, and the one idempotent answer of the standard key: nothing else.
    expect(grew.sort()).toEqual(['idempotency_keys', 'key_month_spend', 'usage']);
    expect(sqliteRows(dbFile, 'SELECT key_id, idempotency_key FROM idempotency_keys')).toEqual([{ key_id: other.id, idempotency_key: 'kept' }]);
    expect(sqliteRows(dbFile, 'SELECT count(*) AS n FROM tuning_files WHERE tenant_id = ?', 'zeroco')[0]!.n).toBe(0);
    const folder = join(dirname(dbFile), 'tuning-files');
    const files = await readdir(folder, { recursive: true }).catch(() => [] as string[]);
    expect(files.filter((f) => f.includes('zeroco'))).toEqual([]);
  });
});

/** Rows per table of the server's SQLite file, every table. */
function counts(): Record<string, number> {
  const tables = sqliteRows(dbFile, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").map((r) => r.name as string);
  return Object.fromEntries(tables.map((t) => [t, sqliteRows(dbFile, `SELECT count(*) AS n FROM "${t}"`)[0]!.n as number]));
}
