/**
 * One behaviour for every BillingStore: the SQL store (SQLite here, D1 at the edge) and the DynamoDB store (the AWS
 * router, against a DynamoDB API on 127.0.0.1) answer the same calls with the same results.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoBillingStore, monthsBetween } from '../../functions/billing/dynamo/dynamo-billing-store.js';
import { SqlBillingStore } from '../../functions/billing/sql-billing-store.js';
import type { ApiKeyRecord, BillingStore, UsageRecord } from '../../functions/billing/types.js';
import { migrationsDir } from '../../functions/node/billing-setup.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import { startLocalDynamo, type LocalDynamo } from './local-dynamodb.js';

const NOV = Date.UTC(2026, 10, 1);
const DEC = Date.UTC(2026, 11, 1);
const DAY = 24 * 60 * 60 * 1000;

const key = (id: string, tenantId: string, prefix: string, createdAt: number): ApiKeyRecord => ({
  id, tenantId, name: `${id} name`, prefix, keyHash: `hash-${id}`, status: 'active', rpm: 60, tpm: 1000,
  monthlyBudgetMicroUsd: id === 'key_a' ? 5_000 : null, createdAt, updatedAt: createdAt,
});

const usage = (requestId: string, createdAt: number, over: Partial<UsageRecord> = {}): UsageRecord => ({
  id: `u-${requestId}`, requestId, keyId: 'key_a', tenantId: 'acme', model: 'sst2-bert', modelVersion: '1', path: 'edge', route: '/v1/classify',
  inputTokens: 10, outputTokens: 0, computeMs: 2.5, status: 200, costMicroUsd: 1.5, idempotentReplay: false, createdAt, heldMicroUsd: 0, ...over,
});

const RECORDS: UsageRecord[] = [
  usage('r1', NOV - 1),
  usage('r2', NOV),
  usage('r3', NOV + DAY + 5, { model: 'stories260K', path: 'gpu', route: '/v1/chat/completions', inputTokens: 7, outputTokens: 20, costMicroUsd: 4 }),
  usage('r4', NOV + 2 * DAY, { status: 429, costMicroUsd: 0, model: null, modelVersion: null, path: null }),
  usage('r5', NOV + 2 * DAY, { keyId: 'key_b', tenantId: 'globex', idempotentReplay: true }),
  usage('r6', NOV + 3 * DAY, { keyId: null, tenantId: null }),
  usage('r7', DEC, { costMicroUsd: 100 }),
];

interface Subject {
  name: string;
  open(): Promise<{ store: BillingStore; close(): Promise<void> }>;
}

let dynamo: LocalDynamo;

const subjects: Subject[] = [
  {
    name: 'SQL (SQLite)',
    async open() {
      const db = await openSqlite(':memory:', migrationsDir);
      return { store: new SqlBillingStore(db), close: async () => db.close() };
    },
  },
  {
    name: 'DynamoDB',
    async open() {
      return { store: new DynamoBillingStore(dynamo.client, dynamo.tables), close: async () => {} };
    },
  },
];

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await dynamo?.close();
});

describe.each(subjects)('$name billing store', (subject) => {
  let store: BillingStore;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await subject.open());
    await store.createTenant({ id: 'acme', stripeCustomerId: 'cus_acme', createdAt: NOV });
    await store.createTenant({ id: 'globex', stripeCustomerId: null, createdAt: NOV });
    await store.createKey(key('key_b', 'globex', 'em_bbbbbbbbb', NOV + 2));
    await store.createKey(key('key_a', 'acme', 'em_aaaaaaaaa', NOV + 1));
    await store.createKey(key('key_c', 'acme', 'em_ccccccccc', NOV + 3));
    await store.insertUsage(RECORDS);
  });
  afterAll(async () => close());

  it('stores tenants and refuses a second tenant with the same id', async () => {
    expect(await store.getTenant('acme')).toEqual({ id: 'acme', stripeCustomerId: 'cus_acme', createdAt: NOV });
    expect(await store.getTenant('globex')).toEqual({ id: 'globex', stripeCustomerId: null, createdAt: NOV });
    expect(await store.getTenant('nobody')).toBeNull();
    await expect(store.createTenant({ id: 'acme', stripeCustomerId: null, createdAt: DEC })).rejects.toThrow();
  });

  it('finds keys by prefix and id, lists them oldest first, and refuses a second key with the same prefix', async () => {
    expect(await store.keyByPrefix('em_aaaaaaaaa')).toEqual(key('key_a', 'acme', 'em_aaaaaaaaa', NOV + 1));
    expect(await store.keyById('key_b')).toEqual(key('key_b', 'globex', 'em_bbbbbbbbb', NOV + 2));
    expect(await store.keyByPrefix('em_zzzzzzzzz')).toBeNull();
    expect(await store.keyById('key_z')).toBeNull();
    expect((await store.listKeys()).map((k) => k.id)).toEqual(['key_a', 'key_b', 'key_c']);
    expect((await store.listKeys('acme')).map((k) => k.id)).toEqual(['key_a', 'key_c']);
    expect(await store.listKeys('nobody')).toEqual([]);
    await expect(store.createKey(key('key_d', 'acme', 'em_aaaaaaaaa', DEC))).rejects.toThrow();
  });

  it('changes a key\'s status, and never brings a revoked key back', async () => {
    expect(await store.setKeyStatus('key_c', 'disabled', NOV + 10)).toBe(true);
    expect(await store.keyByPrefix('em_ccccccccc')).toMatchObject({ status: 'disabled', updatedAt: NOV + 10 });
    expect(await store.setKeyStatus('key_c', 'revoked', NOV + 11)).toBe(true);
    expect(await store.setKeyStatus('key_c', 'active', NOV + 12)).toBe(false);
    expect(await store.keyById('key_c')).toMatchObject({ status: 'revoked', updatedAt: NOV + 11 });
    expect(await store.setKeyStatus('key_z', 'disabled', NOV)).toBe(false);
  });

  it('changes only the given fields of a key, finds it changed by prefix, and never changes a revoked key', async () => {
    const before = (await store.keyById('key_b'))!;
    expect(await store.changeKey('key_b', { rpm: 5 }, NOV + 20)).toEqual({ ...before, rpm: 5, updatedAt: NOV + 20 });
    expect(await store.changeKey('key_b', { tpm: 7, monthlyBudgetMicroUsd: 0, name: null }, NOV + 21))
      .toEqual({ ...before, rpm: 5, tpm: 7, monthlyBudgetMicroUsd: 0, name: null, updatedAt: NOV + 21 });
    expect(await store.changeKey('key_b', { monthlyBudgetMicroUsd: 250, name: 'renamed' }, NOV + 22)).toMatchObject({ monthlyBudgetMicroUsd: 250, name: 'renamed' });
    expect(await store.changeKey('key_b', { monthlyBudgetMicroUsd: null }, NOV + 23)).toMatchObject({ monthlyBudgetMicroUsd: null, tpm: 7 });
    // What the request path reads (the authenticator looks keys up by prefix) is the changed key.
    expect(await store.keyByPrefix('em_bbbbbbbbb')).toEqual({ ...before, rpm: 5, tpm: 7, monthlyBudgetMicroUsd: null, name: 'renamed', updatedAt: NOV + 23 });
    expect(await store.changeKey('key_c', { rpm: 1 }, NOV + 24)).toBeNull(); // revoked above
    expect(await store.keyById('key_c')).toMatchObject({ rpm: 60, status: 'revoked', updatedAt: NOV + 11 });
    expect(await store.changeKey('key_z', { rpm: 1 }, NOV + 24)).toBeNull();
  });

  it('returns the records of [from, to) in time order, for one tenant or all, and writes a retried batch once', async () => {
    await store.insertUsage(RECORDS.slice(2, 5)); // a batch retried after a failed flush
    const all = await store.usageRecords({ from: NOV, to: DEC });
    expect(all.map((r) => r.requestId)).toEqual(['r2', 'r3', 'r4', 'r5', 'r6']);
    expect(all[1]).toEqual(RECORDS[2]);
    expect(all[4]).toEqual(RECORDS[5]);
    expect((await store.usageRecords({ from: NOV, to: DEC, tenantId: 'acme' })).map((r) => r.requestId)).toEqual(['r2', 'r3', 'r4']);
    expect((await store.usageRecords({ from: NOV - DAY, to: DEC + 1 })).map((r) => r.requestId)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']);
    expect(await store.usageRecords({ from: DEC + 1, to: DEC + DAY })).toEqual([]);
  });

  it('sums usage by model, day and key', async () => {
    expect(await store.usage({ from: NOV, to: DEC, tenantId: 'acme' }, 'model')).toEqual([
      { group: '(none)', requests: 1, inputTokens: 10, outputTokens: 0, costMicroUsd: 0 },
      { group: 'sst2-bert@1', requests: 1, inputTokens: 10, outputTokens: 0, costMicroUsd: 1.5 },
      { group: 'stories260K@1', requests: 1, inputTokens: 7, outputTokens: 20, costMicroUsd: 4 },
    ]);
    expect(await store.usage({ from: NOV, to: DEC }, 'day')).toEqual([
      { group: '2026-11-01', requests: 1, inputTokens: 10, outputTokens: 0, costMicroUsd: 1.5 },
      { group: '2026-11-02', requests: 1, inputTokens: 7, outputTokens: 20, costMicroUsd: 4 },
      { group: '2026-11-03', requests: 2, inputTokens: 20, outputTokens: 0, costMicroUsd: 1.5 },
      { group: '2026-11-04', requests: 1, inputTokens: 10, outputTokens: 0, costMicroUsd: 1.5 },
    ]);
    expect(await store.usage({ from: NOV - DAY, to: DEC + 1 }, 'key')).toEqual([
      { group: '(open)', requests: 1, inputTokens: 10, outputTokens: 0, costMicroUsd: 1.5 },
      { group: 'key_a', requests: 5, inputTokens: 47, outputTokens: 20, costMicroUsd: 107 },
      { group: 'key_b', requests: 1, inputTokens: 10, outputTokens: 0, costMicroUsd: 1.5 },
    ]);
  });

  it('tells what a key spent since the start of a month', async () => {
    expect(await store.spentSince('key_a', NOV)).toBe(105.5);
    expect(await store.spentSince('key_a', DEC)).toBe(100);
    expect(await store.spentSince('key_b', NOV)).toBe(1.5);
    expect(await store.spentSince('key_z', NOV)).toBe(0);
  });

  it('reads ranges larger than one DynamoDB response (1 MB) whole', async () => {
    const many = Array.from({ length: 3_000 }, (_, i) => usage(`bulk-${String(i).padStart(4, '0')}`, DEC + 10 * DAY + i, {
      tenantId: 'bulk', keyId: 'key_bulk', route: `/v1/classify/${'x'.repeat(300)}`, costMicroUsd: 0,
    }));
    await store.insertUsage(many);
    const range = { from: DEC + 10 * DAY, to: DEC + 11 * DAY, tenantId: 'bulk' };
    const records = await store.usageRecords(range);
    expect(records).toHaveLength(3_000);
    expect(records.at(-1)!.requestId).toBe('bulk-2999');
    expect(await store.usage(range, 'key')).toEqual([{ group: 'key_bulk', requests: 3_000, inputTokens: 30_000, outputTokens: 0, costMicroUsd: 0 }]);
  }, 60_000);

  it('keeps every record of requests that sent the same x-request-id, even across tenants', async () => {
    const at = DEC + 20 * DAY;
    const same = [usage('dup', at, { id: 'u-dup-1' }), usage('dup', at + 1, { id: 'u-dup-2' }), usage('dup', at + 2, { id: 'u-dup-3', keyId: 'key_b', tenantId: 'globex' })];
    await store.insertUsage(same);
    await store.insertUsage(same.slice(1)); // retried: still once each
    const records = await store.usageRecords({ from: at, to: at + DAY });
    expect(records.map((r) => [r.id, r.requestId])).toEqual([['u-dup-1', 'dup'], ['u-dup-2', 'dup'], ['u-dup-3', 'dup']]);
  });

  it('gives the usage of requests made without a key apart from every tenant\'s', async () => {
    expect((await store.usageRecords({ from: NOV, to: DEC, tenantId: null })).map((r) => r.requestId)).toEqual(['r6']);
    expect(await store.usage({ from: NOV, to: DEC, tenantId: null }, 'key')).toEqual([{ group: '(open)', requests: 1, inputTokens: 10, outputTokens: 0, costMicroUsd: 1.5 }]);
  });

  it('holds budget atomically: spend plus holds never pass the budget, and a written record turns its hold into its cost', async () => {
    const JAN = Date.UTC(2027, 0, 1);
    await store.createKey(key('key_h', 'acme', 'em_hhhhhhhhh', JAN));
    const hold = (id: string, microUsd: number, at = JAN + 10) => store.holdBudget({ id, keyId: 'key_h', microUsd, budgetMicroUsd: 100, at });
    // 30 concurrent holds of 10 against a budget of 100: exactly 10 fit.
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => hold(`h${i}`, 10)));
    expect(results.filter(Boolean)).toHaveLength(10);
    const held = results.flatMap((ok, i) => (ok ? [`h${i}`] : []));
    expect(await hold('h-more', 1)).toBe(false);
    // Settling: three requests cost 2 each, the rest nothing; 100 - 6 is left.
    await store.insertUsage(held.map((id, i) => usage(`req-${id}`, JAN + 20 + i, { id, keyId: 'key_h', costMicroUsd: i < 3 ? 2 : 0, heldMicroUsd: 10 })));
    expect(await store.spentSince('key_h', JAN)).toBe(6);
    expect(await hold('h-94', 94)).toBe(true);
    expect(await hold('h-1', 1)).toBe(false);
    expect(await hold('h-feb', 100, Date.UTC(2027, 1, 1))).toBe(true); // a new month
  });

  it('binds an Idempotency-Key to its request, keeps the answer, and lets a failed first attempt go', async () => {
    const at = NOV + 5 * DAY;
    const ask = (scope: string, key: string, requestHash: string, usageId: string, when = at) =>
      store.claimIdempotencyKey({ scope, key, requestHash, usageId, at: when, since: when - DAY, staleBefore: when - 15 * 60_000 });
    expect(await ask('key_a', 'order-1', 'hash-1', 'u1')).toEqual({ state: 'new' });
    expect(await ask('key_a', 'order-1', 'hash-1', 'u2', at + 1)).toEqual({ state: 'in_progress' });
    expect(await ask('key_a', 'order-1', 'hash-other', 'u3', at + 1)).toEqual({ state: 'mismatch' });
    expect(await ask('key_b', 'order-1', 'hash-other', 'u4', at + 1)).toEqual({ state: 'new' }); // another key's namespace
    const body = new TextEncoder().encode('{"ok":true}');
    await store.completeIdempotencyKey({ scope: 'key_a', key: 'order-1', usageId: 'u1' }, { status: 200, contentType: 'application/json', body });
    expect(await ask('key_a', 'order-1', 'hash-1', 'u5', at + 2)).toEqual({ state: 'replay', response: { status: 200, contentType: 'application/json', body } });
    expect(await ask('key_a', 'order-1', 'hash-1', 'u6', at + DAY + 1)).toEqual({ state: 'new' }); // the window passed
    await store.releaseIdempotencyKey({ scope: 'key_a', key: 'order-1', usageId: 'not-u6' }); // only the claimant may let it go
    expect(await ask('key_a', 'order-1', 'hash-1', 'u7', at + DAY + 2)).toEqual({ state: 'in_progress' });
    await store.releaseIdempotencyKey({ scope: 'key_a', key: 'order-1', usageId: 'u6' });
    expect(await ask('key_a', 'order-1', 'hash-1', 'u8', at + DAY + 3)).toEqual({ state: 'new' });
    // A claim left in progress by a process that died is taken over once abandoned.
    expect(await ask('key_a', 'order-1', 'hash-1', 'u9', at + DAY + 3 + 16 * 60_000)).toEqual({ state: 'new' });
  });
});

describe('DynamoDB usage partitions', () => {
  it('cover every UTC month a range touches', () => {
    expect(monthsBetween(Date.UTC(2026, 10, 30), Date.UTC(2027, 1, 1))).toEqual(['2026-11', '2026-12', '2027-01']);
    expect(monthsBetween(Date.UTC(2026, 10, 30), Date.UTC(2027, 1, 1) + 1)).toEqual(['2026-11', '2026-12', '2027-01', '2027-02']);
    expect(monthsBetween(NOV, NOV + 1)).toEqual(['2026-11']);
  });
});
