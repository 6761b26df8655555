/**
 * A route splits a registry entry, not one spelling of it: a route on `sst2-glove-bilstm` applies to `sentiment` and
 * to the default (no model named), which resolve to the same version, and a key draws the same version whichever
 * spelling it sends; `id@version` is never routed. A second route on another name of the same entry is a 409 (the
 * admin API and the CLI), and the other spelling's GET shows the route that applies. In-process over the real
 * classifiers and a real SQLite route store, open mode (buckets by x-edge-maas-route-key).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsDir } from '../../functions/node/billing-setup.js';
import { buildLocalApp } from '../../functions/node/local-app.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import { RouteStore } from '../../functions/traffic/route-store.js';
import { ADMIN, tempDb } from '../billing/helpers.js';

const BILSTM = 'sst2-glove-bilstm@2';
const BERT = 'sst2-bert@3';

let db: Awaited<ReturnType<typeof tempDb>>;
let sqlite: Awaited<ReturnType<typeof openSqlite>>;
let app: Awaited<ReturnType<typeof buildLocalApp>>['app'];
beforeAll(async () => {
  db = await tempDb();
  sqlite = await openSqlite(db.path, migrationsDir);
  ({ app } = await buildLocalApp({ backend: 'node', traffic: { store: new RouteStore(sqlite) }, app: { adminToken: ADMIN } }));
}, 120_000);
afterAll(async () => {
  sqlite?.close();
  await db?.remove();
});

const admin = async (method: string, alias: string, body?: unknown) => {
  const res = await app.fetch(new Request(`http://local/admin/routes/${alias}`, {
    method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  }));
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

async function versionFor(routeKey: string, model?: string): Promise<string> {
  const res = await app.fetch(new Request('http://local/v1/classify', {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-edge-maas-route-key': routeKey }, body: JSON.stringify({ input: 'a fine film', ...(model ? { model } : {}) }),
  }));
  expect(res.status).toBe(200);
  return res.headers.get('x-edge-maas-model-version')!;
}

describe('a route on one name of a registry entry', () => {
  it('applies to every unversioned name of the entry, with the same version per key', async () => {
    expect((await admin('PUT', 'sst2-glove-bilstm', { weights: { [BILSTM]: 50, [BERT]: 50 } })).status).toBe(200);
    const seen = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const key = `user-${i}`;
      const byId = await versionFor(key, 'sst2-glove-bilstm');
      expect([await versionFor(key, 'sentiment'), await versionFor(key)], key).toEqual([byId, byId]);
      expect(await versionFor(key, BILSTM)).toBe(BILSTM); // one version by name: never routed
      seen.add(byId);
    }
    expect(seen).toEqual(new Set([BILSTM, BERT]));
    const viaAlias = await admin('GET', 'sentiment');
    expect(viaAlias.body).toMatchObject({ alias: 'sst2-glove-bilstm', source: 'route', weights: { [BERT]: 50, [BILSTM]: 50 } });
  });

  it('refuses a second route on another name of the same entry (409), and DELETE on that name is no_route', async () => {
    const second = await admin('PUT', 'sentiment', { weights: { [BERT]: 100 } });
    expect([second.status, second.body.error?.code, second.body.error?.param]).toEqual([409, 'route_exists', 'alias']);
    expect(second.body.error.message).toContain('sst2-glove-bilstm');
    const missing = await admin('DELETE', 'sentiment');
    expect([missing.status, missing.body.error?.code]).toEqual([404, 'no_route']);
    expect((await admin('PUT', 'sst2-glove-bilstm', { weights: { [BERT]: 100 } })).status).toBe(200); // its own route changes
    expect(await versionFor('anyone', 'sentiment')).toBe(BERT);
    expect((await admin('DELETE', 'sst2-glove-bilstm')).status).toBe(200);
    expect(await versionFor('anyone', 'sentiment')).toBe(BILSTM);
    expect((await admin('PUT', 'sentiment', { weights: { [BERT]: 100 } })).status).toBe(200); // free again
    expect((await admin('DELETE', 'sentiment')).status).toBe(200);
  });
});
