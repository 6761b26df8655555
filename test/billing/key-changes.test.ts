// PATCH /admin/keys/{id} against the real server with an SQLite file: only the fields given change, the next request
// is admitted under the new limits and budget, bad changes get a 400 naming the field; and a key lookup cached in
// another process keeps the old limits no longer than its cache time.
import { describe, expect, it } from 'vitest';
import { hashKey } from '../../functions/billing/api-keys.js';
import { Authenticator } from '../../functions/billing/authenticator.js';
import { changeKey } from '../../functions/billing/key-admin.js';
import { SqlBillingStore } from '../../functions/billing/sql-billing-store.js';
import { migrationsDir } from '../../functions/node/billing-setup.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import { classifyWith, useKeysServer } from './helpers.js';
import { classificationHold } from './prices.js';
import { registryPrice } from './registry-price.js';
import { sqliteRows } from './sqlite-rows.js';

const ctx = useKeysServer();
const patch = (id: string, body: unknown) => ctx.admin.call('PATCH', `/keys/${id}`, body);

describe('PATCH /admin/keys/{id}', () => {
  it('changes only the fields given, in the answer, the listing and the database', async () => {
    const { id } = await ctx.admin.key('edits', { name: 'before', rpm: 50, tpm: 5000, monthly_budget_micro_usd: 9_000_000 });
    const changed = await patch(id, { rpm: 7 });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ id, name: 'before', rpm: 7, tpm: 5000, monthly_budget_micro_usd: 9_000_000, status: 'active' });
    expect(JSON.stringify(changed.body)).not.toMatch(/em_[0-9A-Za-z]{40}|key_hash/);
    expect((await patch(id, { name: 'after', tpm: 123, monthly_budget_micro_usd: null })).body)
      .toMatchObject({ name: 'after', rpm: 7, tpm: 123, monthly_budget_micro_usd: null });
    const listed = ((await ctx.admin.call('GET', '/keys?tenant=edits')).body as { data: { id: string }[] }).data;
    expect(listed.find((k) => k.id === id)).toMatchObject({ name: 'after', rpm: 7, tpm: 123, monthly_budget_micro_usd: null });
    const [row] = sqliteRows(ctx.db.path, 'SELECT name, rpm, tpm, monthly_budget_micro_usd, updated_at, created_at FROM api_keys WHERE id = ?', id);
    expect(row).toMatchObject({ name: 'after', rpm: 7, tpm: 123, monthly_budget_micro_usd: null });
    expect(row!.updated_at as number).toBeGreaterThanOrEqual(row!.created_at as number);
  });

  it('applies a lower requests-per-minute limit from the next request (429 within its one request), and a higher one too', async () => {
    const { id, key } = await ctx.admin.key('rpmedit', { rpm: 100 });
    expect((await classifyWith(ctx.server.url, key)).status).toBe(200);
    expect((await patch(id, { rpm: 1 })).status).toBe(200);
    // The bucket keeps the request it used, less what it refilled at 100 a minute since (on a slow machine, a whole
    // request's worth): the next one may pass, then 429.
    const next = await classifyWith(ctx.server.url, key);
    expect(next.headers.get('x-ratelimit-limit-requests')).toBe('1');
    const refused = next.status === 429 ? next : await classifyWith(ctx.server.url, key);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('1');
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/\(1 requests/);
    expect((await patch(id, { rpm: 1000 })).status).toBe(200);
    const allowed = await classifyWith(ctx.server.url, key);
    expect(allowed.headers.get('x-ratelimit-limit-requests')).toBe('1000');
  });

  it('keeps what the key used this minute when its rpm is lowered: 100 to 5 after 3 requests leaves room for about 2, not 5', async () => {
    const { id, key } = await ctx.admin.key('rpmlowered', { rpm: 100 });
    const started = Date.now();
    for (let i = 0; i < 3; i++) expect((await classifyWith(ctx.server.url, key)).status).toBe(200);
    expect((await patch(id, { rpm: 5 })).status).toBe(200);
    let admitted = 0;
    for (let i = 0; i < 6; i++) {
      const answer = await classifyWith(ctx.server.url, key);
      if (answer.status !== 200) {
        expect(answer.status).toBe(429);
        break;
      }
      admitted++;
    }
    // 2, plus what the bucket refilled at 100 a minute while the first 3 were answered (a loaded machine is slower).
    const refilled = Math.ceil(((Date.now() - started) * 100) / 60_000);
    expect(admitted).toBeGreaterThanOrEqual(2);
    expect(admitted).toBeLessThanOrEqual(2 + refilled);
    expect(admitted).toBeLessThan(5);
  });

  it('applies a new monthly budget to the next request: 402 under a budget of 0, answered again once it is raised', async () => {
    const { id, key } = await ctx.admin.key('budgetedit');
    expect((await classifyWith(ctx.server.url, key)).status).toBe(200);
    expect((await patch(id, { monthly_budget_micro_usd: 0 })).status).toBe(200);
    expect((await classifyWith(ctx.server.url, key)).status).toBe(402);
    const hold = classificationHold(await registryPrice('sst2-glove-bilstm'), ['a fine film']);
    expect((await patch(id, { monthly_budget_micro_usd: Math.ceil(100 * hold) })).status).toBe(200);
    expect((await classifyWith(ctx.server.url, key)).status).toBe(200);
  });

  it.each([
    ['an unknown field', { rpm: 5, budget_usd: 5 }, 400, 'budget_usd', /unknown field "budget_usd"/],
    ['a negative limit', { rpm: -5 }, 400, 'rpm', /"rpm" must be an integer from 1 to 1,000,000/],
    ['a zero limit', { tpm: 0 }, 400, 'tpm', /"tpm" must be an integer/],
    ['a fractional limit', { tpm: 1.5 }, 400, 'tpm', /"tpm"/],
    ['a limit as a string', { rpm: '100' }, 400, 'rpm', /"rpm"/],
    ['a limit past its bound', { rpm: 1e308 }, 400, 'rpm', /"rpm"/],
    ['a negative budget', { monthly_budget_micro_usd: -1 }, 400, 'monthly_budget_micro_usd', /"monthly_budget_micro_usd" must be an integer from 0 \(free requests only\) to 1,000,000,000,000, or null/],
    ['a fractional budget', { monthly_budget_micro_usd: 0.5 }, 400, 'monthly_budget_micro_usd', /from 0 /],
    ['an empty name', { name: '' }, 400, 'name', /"name" must not be empty or blank: give null/],
    ['a blank name', { name: '  ' }, 400, 'name', /"name" must not be empty/],
    ['a name with a NUL', { name: 'a\u0000b' }, 400, 'name', /"name" must not contain control characters/],
    ['a name with a line break', { name: 'a\nb' }, 400, 'name', /control characters/],
    ['a name too long', { name: 'x'.repeat(101) }, 400, 'name', /"name" must be a string of at most 100/],
    ['nothing to change', {}, 400, null, /nothing to change: give one or more of "name", "rpm", "tpm", "monthly_budget_micro_usd"/],
    ['a body that is not an object', [1, 2], 400, null, /object/],
    ['malformed JSON', '{"rpm": ', 400, null, /not valid JSON/],
  ])('answers %s with a clear 400 naming the field', async (_name, body, status, param, message) => {
    const { id } = await ctx.admin.key('badedits', { rpm: 42 });
    const res = await patch(id, body);
    expect(res.status).toBe(status);
    const error = (res.body as { error: { message: string; type: string; param: string | null } }).error;
    expect(error.message).toMatch(message);
    expect(error.type).toBe('invalid_request_error');
    if (param !== null) expect(error.param).toBe(param);
    // Nothing changed, not even the fields that were right.
    expect(sqliteRows(ctx.db.path, 'SELECT rpm FROM api_keys WHERE id = ?', id)).toEqual([{ rpm: 42 }]);
  });

  it.each([
    ['an empty name', { name: '' }, /"name" must not be empty/],
    ['a name with a NUL', { name: 'a\u0000b' }, /"name" must not contain control characters/],
    ['a negative budget', { monthly_budget_micro_usd: -1 }, /from 0 \(free requests only\)/],
  ])('refuses %s at key creation too, with a 400 naming the field', async (_name, fields, message) => {
    await ctx.admin.call('POST', '/tenants', { id: 'badcreate' });
    const res = await ctx.admin.call('POST', '/keys', { tenant: 'badcreate', ...fields });
    expect(res.status).toBe(400);
    const error = (res.body as { error: { message: string; param: string } }).error;
    expect(error.message).toMatch(message);
    expect(error.param).toBe(Object.keys(fields)[0]);
    expect(sqliteRows(ctx.db.path, "SELECT id FROM api_keys WHERE tenant_id = 'badcreate'")).toEqual([]);
  });

  it('keeps a budget of 0 (free requests only) and a name given as null (none)', async () => {
    const { id } = await ctx.admin.key('zerobudget', { name: 'named' });
    expect((await patch(id, { monthly_budget_micro_usd: 0, name: null })).body).toMatchObject({ monthly_budget_micro_usd: 0, name: null });
  });

  it('answers 404 for an unknown key, 409 for a revoked one, and 401 without the admin token', async () => {
    const unknown = await patch('key_nope', { rpm: 5 });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'key_not_found', param: 'id' } });
    const { id } = await ctx.admin.key('revokededit');
    expect((await ctx.admin.call('DELETE', `/keys/${id}`)).status).toBe(200);
    expect((await patch(id, { rpm: 5 })).status).toBe(409);
    expect((await ctx.admin.call('PATCH', `/keys/${id}`, { rpm: 5 }, 'wrong')).status).toBe(401);
  });
});

describe('a key lookup cached in another process', () => {
  it('keeps the old limits at most for its cache time (2 s in Node), then the new ones', async () => {
    const db = await openSqlite(':memory:', migrationsDir);
    try {
      const store = new SqlBillingStore(db);
      await store.createTenant({ id: 'far', stripeCustomerId: null, createdAt: 0 });
      const key = `em_${'a'.repeat(40)}`;
      await store.createKey({ id: 'key_far', tenantId: 'far', name: null, prefix: key.slice(0, 12), keyHash: await hashKey(key), status: 'active', rpm: 100, tpm: 1000, monthlyBudgetMicroUsd: null, createdAt: 0, updatedAt: 0 });
      let now = 1_000_000;
      const elsewhere = new Authenticator(store, 2_000, () => now); // the other process's, with its own cache
      expect((await elsewhere.authenticate(key)).rpm).toBe(100);
      await changeKey(store, 'key_far', { rpm: 3, monthly_budget_micro_usd: 0 }, now);
      now += 2_000;
      expect((await elsewhere.authenticate(key)).rpm).toBe(100); // still inside its cache time
      now += 1;
      expect(await elsewhere.authenticate(key)).toMatchObject({ rpm: 3, monthlyBudgetMicroUsd: 0 });
    } finally {
      db.close();
    }
  });
});
