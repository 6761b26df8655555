// PATCH /admin/keys/{id} inside workerd with D1 and the keys' Durable Objects: a key's new limits and budget apply
// from its next request through this isolate (its cached lookup forgotten), and a bad change is a 400 naming the field.
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';

const ADMIN = { authorization: 'Bearer worker-test-admin' };

const send = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  exports.default.fetch(new Request(`http://edge.test${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }));

async function newKey(limits: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const created = await send('POST', '/admin/keys', { tenant: 'edge_limits', ...limits }, ADMIN);
  expect(created.status).toBe(201);
  return (await created.json()) as { id: string; key: string };
}

const classify = (key: string) => send('POST', '/v1/classify', { input: 'a fine film' }, { authorization: `Bearer ${key}` });

beforeAll(async () => {
  expect((await send('POST', '/admin/tenants', { id: 'edge_limits' }, ADMIN)).status).toBe(201);
});

describe('changing a key in the Worker', () => {
  it('applies a lower rpm from the next request (its object refuses within one request) and a budget of 0 at once (402)', async () => {
    const { id, key } = await newKey({ rpm: 10_000 });
    expect((await classify(key)).status).toBe(200);
    const changed = await send('PATCH', `/admin/keys/${id}`, { rpm: 1 }, ADMIN);
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ id, rpm: 1, tpm: 1_000_000, monthly_budget_micro_usd: null });
    const answers = [await classify(key), await classify(key)];
    expect(answers.map((a) => a.headers.get('x-ratelimit-limit-requests'))).toEqual(['1', '1']);
    expect(answers[1]!.status).toBe(429);
    const { id: other, key: otherKey } = await newKey({ rpm: 10_000 });
    expect((await send('PATCH', `/admin/keys/${other}`, { monthly_budget_micro_usd: 0 }, ADMIN)).status).toBe(200);
    expect((await classify(otherKey)).status).toBe(402);
  });

  it('keeps what the key used this minute in its object when rpm is lowered: 100 to 5 after 3 requests leaves about 2, not 5', async () => {
    const { id, key } = await newKey({ rpm: 100 });
    const started = Date.now();
    for (let i = 0; i < 3; i++) expect((await classify(key)).status).toBe(200);
    expect((await send('PATCH', `/admin/keys/${id}`, { rpm: 5 }, ADMIN)).status).toBe(200);
    let admitted = 0;
    for (let i = 0; i < 6; i++) {
      const answer = await classify(key);
      if (answer.status !== 200) {
        expect(answer.status).toBe(429);
        break;
      }
      admitted++;
    }
    // 2, plus what the bucket refilled at 100 a minute while the first 3 were answered.
    expect(admitted).toBeGreaterThanOrEqual(2);
    expect(admitted).toBeLessThanOrEqual(2 + Math.ceil(((Date.now() - started) * 100) / 60_000));
    expect(admitted).toBeLessThan(5);
  });

  it('refuses a bad change with a 400 naming the field, and an unknown key with a 404', async () => {
    const { id } = await newKey();
    const bad = await send('PATCH', `/admin/keys/${id}`, { rpm: 2.5 }, ADMIN);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('rpm');
    expect((await send('PATCH', '/admin/keys/key_nope', { rpm: 5 }, ADMIN)).status).toBe(404);
  });
});
