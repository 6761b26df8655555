// Billing inside workerd with D1: every concurrent request's usage counted by its key's object, budgets held
// there at admission (exact under concurrency), Idempotency-Key bound to the request.
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';

const ADMIN = { authorization: 'Bearer worker-test-admin' };

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  exports.default.fetch(new Request(`http://edge.test${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }));

async function newKey(limits: Record<string, unknown> = {}): Promise<string> {
  const created = await post('/admin/keys', { tenant: 'edge_billing', rpm: 10_000, ...limits }, ADMIN);
  expect(created.status).toBe(201);
  return ((await created.json()) as { key: string }).key;
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 100 && !done(value); i++) {
    await new Promise((r) => setTimeout(r, 20));
    value = await read();
  }
  return value;
}

beforeAll(async () => {
  expect((await post('/admin/tenants', { id: 'edge_billing' }, ADMIN)).status).toBe(201);
});

describe('billing in the Worker', () => {
  it('counts the usage of every one of 24 concurrent requests (written by the key\'s object, usage-rollups.test.ts)', async () => {
    const key = await newKey();
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => post('/v1/classify', { input: `text number ${i}` }, { authorization: `Bearer ${key}` })));
    expect(answers.map((a) => a.status)).toEqual(Array(24).fill(200));
    // /v1/usage writes the caller's key's roll-up first; the records reach the object after the answers.
    const requests = async () => {
      const usage = await exports.default.fetch(new Request('http://edge.test/v1/usage?group_by=model', { headers: { authorization: `Bearer ${key}` } }));
      // The usage requests themselves are counted too, under "(none)": only the classifications are summed.
      return ((await usage.json()) as { data: { model: string; requests: number }[] }).data.filter((d) => d.model !== '(none)').reduce((n, d) => n + d.requests, 0);
    };
    expect(await eventually(requests, (n) => n >= 24)).toBe(24);
  });

  it('holds a budget exactly under concurrent requests', async () => {
    const key = await newKey({ monthly_budget_micro_usd: 35 }); // a classification holds its request fee and its most tokens (sst2-bert's price): three fit
    const statuses = await Promise.all(Array.from({ length: 12 }, () => post('/v1/classify', { input: 'a fine film' }, { authorization: `Bearer ${key}` }).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 402)).toHaveLength(9);
  });

  it('replays an Idempotency-Key with the stored answer and refuses it with another body', async () => {
    const key = await newKey();
    const headers = { authorization: `Bearer ${key}`, 'idempotency-key': 'edge-order-1' };
    const first = await post('/v1/classify', { input: 'a fine film' }, headers);
    const again = await post('/v1/classify', { input: 'a fine film' }, headers);
    const other = await post('/v1/classify', { input: 'another film' }, headers);
    expect([first.status, again.status, other.status]).toEqual([200, 200, 422]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.text()).toBe(await first.text());
  });
});
