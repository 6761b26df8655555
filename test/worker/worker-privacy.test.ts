// The privacy policy inside workerd with D1 (migrations/0007): set through the admin API, read by the Worker's
// privacy plugin; a blocked prompt is refused before any upstream is looked for, a laxer header changes nothing,
// and retention=none refuses a training file upload. (Masking against a recording upstream: test/privacy/.)
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';

const ADMIN = { authorization: 'Bearer worker-test-admin' };
const call = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  exports.default.fetch(new Request(`http://edge.test${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }));

let key: { id: string; key: string };
beforeAll(async () => {
  expect((await call('POST', '/admin/tenants', { id: 'edge_privacy' }, ADMIN)).status).toBe(201);
  const created = await call('POST', '/admin/keys', { tenant: 'edge_privacy', rpm: 10_000 }, ADMIN);
  key = (await created.json()) as { id: string; key: string };
});

const chat = (content: string, headers: Record<string, string> = {}) =>
  call('POST', '/v1/chat/completions', { model: 'stories260K', messages: [{ role: 'user', content }], max_tokens: 8 }, { authorization: `Bearer ${key.key}`, ...headers });

describe('privacy policy in the Worker', () => {
  it('blocks a prompt holding personal data (400 naming the kinds, not the values) once the tenant default says so', async () => {
    const before = await chat('mail me at jane.doe@example.com');
    expect(before.status).toBe(503); // no GPU service configured here: the prompt got as far as the upstream client
    expect(before.headers.get('x-edge-maas-privacy')).toBe('pii=off; retention=standard');
    const set = await call('PUT', '/admin/tenants/edge_privacy/privacy', { pii: 'block' }, ADMIN);
    expect(set.status).toBe(200);
    const blocked = await chat('mail me at jane.doe@example.com', { 'x-edge-maas-privacy': 'pii=off' });
    expect(blocked.status).toBe(400);
    const error = ((await blocked.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('pii_blocked');
    expect(error.message).toContain('(email)');
    expect(error.message).not.toContain('jane.doe');
    expect(blocked.headers.get('x-edge-maas-pii')).toBe('email=1');
    expect((await call('PUT', '/admin/tenants/edge_privacy/privacy', { pii: 'hide' }, ADMIN)).status).toBe(400);
    expect((await chat('mail me at jane.doe@example.com')).status).toBe(400); // the previous policy stays
  });

  it('retention=none in the request header refuses a training file upload with 403', async () => {
    const form = new FormData();
    form.append('purpose', 'fine-tune');
    form.append('file', new Blob(['{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}']), 'train.jsonl');
    const res = await exports.default.fetch(new Request('http://edge.test/v1/files', {
      method: 'POST', headers: { authorization: `Bearer ${key.key}`, 'x-edge-maas-privacy': 'retention=none' }, body: form,
    }));
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('retention_forbids_storage');
  });
});
