// An Idempotency-Key replay in the Worker (D1's kept answer, billing's shared replay path) names the version that
// answered, as the first answer did.
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';

const ADMIN = { authorization: 'Bearer worker-test-admin' };
const VERSION = 'x-edge-maas-model-version';

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  exports.default.fetch(new Request(`http://edge.test${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }));

describe('an Idempotency-Key replay in the Worker', () => {
  it('answers the first answer\'s x-edge-maas-model-version', async () => {
    expect((await post('/admin/tenants', { id: 'edge_replay_version' }, ADMIN)).status).toBe(201);
    const created = await post('/admin/keys', { tenant: 'edge_replay_version', rpm: 1000 }, ADMIN);
    const { key } = (await created.json()) as { key: string };
    const headers = { authorization: `Bearer ${key}`, 'idempotency-key': 'edge-replay-version-1' };
    const first = await post('/v1/classify', { input: 'a fine film' }, headers);
    const again = await post('/v1/classify', { input: 'a fine film' }, headers);
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get(VERSION)).toMatch(/^[\w.-]+@\w+$/);
    expect(again.headers.get(VERSION)).toBe(first.headers.get(VERSION));
    expect(await again.text()).toBe(await first.text());
  });
});
