/**
 * The split over 10,000 requests from 2,000 API keys, in-process (app.fetch, no sockets) over the real stores: keys,
 * usage and routes in one SQLite file, the real classifiers. At 90/10 each key sees one version on all its requests,
 * the share of keys (so of requests) on the 10 % version is within 4.5 standard deviations of a binomial's, and the
 * usage records bill each version exactly the requests whose header named it. Moving to 80/20 moves only keys from
 * the 90 % version to the other, about 10 % of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createTenant } from '../../functions/billing/key-admin.js';
import { migrationsDir, openBilling, type NodeBilling } from '../../functions/node/billing-setup.js';
import { buildLocalApp } from '../../functions/node/local-app.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import { RouteStore } from '../../functions/traffic/route-store.js';
import { ADMIN, tempDb } from '../billing/helpers.js';
import { sqliteRows } from '../billing/sqlite-rows.js';
import { eventually } from '../helpers/eventually.js';

const BILSTM = 'sst2-glove-bilstm@2';
const BERT = 'sst2-bert@3';
const KEYS = 2_000;
const PER_KEY = 5;

let db: Awaited<ReturnType<typeof tempDb>>;
let billing: NodeBilling;
let routesDb: Awaited<ReturnType<typeof openSqlite>>;
let app: Awaited<ReturnType<typeof buildLocalApp>>['app'];
let keys: { id: string; key: string }[];

beforeAll(async () => {
  db = await tempDb();
  billing = await openBilling({ mode: 'keys', dbPath: db.path });
  routesDb = await openSqlite(db.path, migrationsDir);
  ({ app } = await buildLocalApp({ backend: 'node', billing: billing.billing, traffic: { store: new RouteStore(routesDb) }, app: { adminToken: ADMIN } }));
  await createTenant(billing.billing.store, { id: 'split' }, Date.now());
  keys = [];
  for (let i = 0; i < KEYS; i++) keys.push(await createKey(billing.billing.store, { tenant: 'split', rpm: 1_000 }, Date.now()) as { id: string; key: string });
}, 120_000);
afterAll(async () => {
  await billing?.close();
  routesDb?.close();
  await db?.remove();
});

const putRoute = (weights: Record<string, number>) => app.fetch(new Request('http://local/admin/routes/sentiment', {
  method: 'PUT', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ weights }),
}));

/** Every key's requests, 64 at a time; the version each answer named, per key. */
async function versionsPerKey(requestsPerKey: number): Promise<Map<string, string[]>> {
  const jobs = keys.flatMap((k) => Array.from({ length: requestsPerKey }, (_, i) => ({ ...k, text: `a fine film, take ${i}` })));
  const seen = new Map<string, string[]>();
  for (let at = 0; at < jobs.length; at += 64) {
    await Promise.all(jobs.slice(at, at + 64).map(async ({ id, key, text }) => {
      const res = await app.fetch(new Request('http://local/v1/classify', {
        method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ input: text }),
      }));
      const body = (await res.json()) as { model: string };
      expect(res.status).toBe(200);
      expect(res.headers.get('x-edge-maas-model-version')).toBe(body.model);
      seen.set(id, [...(seen.get(id) ?? []), body.model]);
    }));
  }
  return seen;
}

const onlyVersion = (versions: string[]) => {
  expect(new Set(versions).size).toBe(1);
  return versions[0]!;
};

describe('a 90/10 split over 10,000 requests from 2,000 keys', () => {
  let first: Map<string, string>;

  it('gives each key one version, 10 % of keys and requests within statistical bounds, and bills what was answered', async () => {
    expect((await putRoute({ [BILSTM]: 90, [BERT]: 10 })).status).toBe(200);
    const seen = await versionsPerKey(PER_KEY);
    first = new Map([...seen].map(([id, versions]) => [id, onlyVersion(versions)]));
    const onBert = [...first.values()].filter((v) => v === BERT).length;
    const requestsOnBert = [...seen.values()].flat().filter((v) => v === BERT).length;
    const sd = Math.sqrt(KEYS * 0.1 * 0.9); // 13.4 keys
    expect(Math.abs(onBert - KEYS * 0.1)).toBeLessThan(4.5 * sd);
    expect(requestsOnBert).toBe(onBert * PER_KEY);
    console.log(`90/10 over ${KEYS * PER_KEY} requests: ${requestsOnBert} (${(requestsOnBert / (KEYS * PER_KEY) * 100).toFixed(2)} %) on ${BERT}, ${onBert} keys`);
    // The usage records bill each version the requests it answered.
    const billed = await eventually(async () => {
      await billing.settle();
      return sqliteRows(db.path, "SELECT model || '@' || model_version AS model, SUM(requests) AS n FROM usage WHERE route = 'POST /v1/classify' GROUP BY 1 ORDER BY 1");
    }, (rows) => rows.reduce((sum, r) => sum + r.n, 0) === KEYS * PER_KEY);
    expect(billed).toEqual([{ model: BERT, n: requestsOnBert }, { model: BILSTM, n: KEYS * PER_KEY - requestsOnBert }].sort((a, b) => a.model.localeCompare(b.model)));
  }, 300_000);

  it('moves only keys of the 90 % version when the split becomes 80/20, about 10 % of all keys', async () => {
    expect((await putRoute({ [BILSTM]: 80, [BERT]: 20 })).status).toBe(200);
    const after = new Map([...(await versionsPerKey(1))].map(([id, versions]) => [id, onlyVersion(versions)]));
    const moved = keys.filter(({ id }) => after.get(id) !== first.get(id));
    expect(moved.every(({ id }) => first.get(id) === BILSTM && after.get(id) === BERT)).toBe(true);
    const sd = Math.sqrt(KEYS * 0.1 * 0.9);
    expect(Math.abs(moved.length - KEYS * 0.1)).toBeLessThan(4.5 * sd);
  }, 300_000);
});
