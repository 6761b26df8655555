// Region pinning inside workerd with D1 (migrations/0009): a pinned key's classification is answered only in a
// Cloudflare data center of its region (request.cf.colo, colo-regions.ts), refused with 403 region_not_here in
// another one or an unknown one; its generation finds no upstream of its region here (none configured) and says so;
// unknown regions are a 400 naming region, and the pin stays.
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';

const ADMIN = { authorization: 'Bearer worker-test-admin' };
const call = (method: string, path: string, body: unknown, headers: Record<string, string> = {}, colo?: string) =>
  exports.default.fetch(new Request(`http://edge.test${path}`, {
    method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
    ...(colo ? { cf: { colo } } : {}),
  } as RequestInit));

let key: { id: string; key: string };
beforeAll(async () => {
  expect((await call('POST', '/admin/tenants', { id: 'edge_region' }, ADMIN)).status).toBe(201);
  const created = await call('POST', '/admin/keys', { tenant: 'edge_region', rpm: 10_000 }, ADMIN);
  key = (await created.json()) as { id: string; key: string };
});

const classify = (colo: string | undefined, headers: Record<string, string> = {}) =>
  call('POST', '/v1/classify', { input: 'a fine film' }, { authorization: `Bearer ${key.key}`, ...headers }, colo);
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string; param: string | null } }).error;

describe('region pinning in the Worker', () => {
  it('a key pinned to eu is classified in Frankfurt, refused in Dallas and in a data center the table does not know', async () => {
    expect((await classify('DFW')).status).toBe(200); // not pinned yet: anywhere
    const set = await call('PUT', `/admin/keys/${key.id}/privacy`, { region: 'eu' }, ADMIN);
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ region: 'eu', region_source: 'key' });
    const here = await classify('FRA');
    expect(here.status).toBe(200);
    expect(here.headers.get('x-edge-maas-privacy')).toBe('pii=off; retention=standard; region=eu');
    const elsewhere = await classify('DFW');
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.headers.get('retry-after')).toBeNull();
    const error = await errorOf(elsewhere);
    expect(error.code).toBe('region_not_here');
    expect(error.message).toContain('in region us');
    const unknown = await classify('XYZ');
    expect(unknown.status).toBe(403);
    expect((await errorOf(unknown)).message).toContain('not known');
    expect((await classify('FRA', { 'x-edge-maas-privacy': 'region=us' })).status).toBe(403);
  });

  it('the data center is still known for a streamed body without Content-Length (the body limit reads it into a new Request)', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ input: 'a fine film' }));
    const body = new ReadableStream<Uint8Array>({ start: (controller) => { controller.enqueue(bytes); controller.close(); } });
    const res = await exports.default.fetch(new Request('http://edge.test/v1/classify', {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key.key}` }, body, cf: { colo: 'AMS' },
    } as RequestInit));
    expect(res.status).toBe(200);
  });

  it("the pinned key's generation has no eu upstream here: 403 region_not_here; a bad region is a 400 and the pin stays", async () => {
    const res = await call('POST', '/v1/chat/completions', { model: 'stories260K', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 }, { authorization: `Bearer ${key.key}` }, 'FRA');
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe('region_not_here');
    const bad = await call('PUT', `/admin/keys/${key.id}/privacy`, { region: 'atlantis' }, ADMIN);
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toMatchObject({ param: 'region', code: 'invalid_value' });
    const shown = await call('GET', `/admin/keys/${key.id}/privacy`, undefined, ADMIN);
    expect(await shown.json()).toMatchObject({ region: 'eu' });
  });
});
