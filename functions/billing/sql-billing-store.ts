/** BillingStore over plain SQL (migrations/*.sql): the same queries on SQLite and D1. */
import type { SqlDatabase } from './sql-database.js';
import type { ApiKeyRecord, BillingStore, KeyStatus, Tenant, UsageGroup, UsageRecord, UsageRow } from './types.js';

interface KeyRow {
  id: string; tenant_id: string; name: string | null; prefix: string; key_hash: string; status: KeyStatus;
  rpm: number; tpm: number; monthly_budget_micro_usd: number | null; created_at: number; updated_at: number;
}

interface UsageDbRow {
  request_id: string; key_id: string | null; tenant_id: string | null; model: string | null; model_version: string | null;
  path: 'edge' | 'gpu' | null; route: string; input_tokens: number; output_tokens: number; compute_ms: number; status: number;
  cost_micro_usd: number; idempotent_replay: number; created_at: number;
}

const toKey = (r: KeyRow): ApiKeyRecord => ({
  id: r.id, tenantId: r.tenant_id, name: r.name, prefix: r.prefix, keyHash: r.key_hash, status: r.status, rpm: r.rpm, tpm: r.tpm,
  monthlyBudgetMicroUsd: r.monthly_budget_micro_usd, createdAt: r.created_at, updatedAt: r.updated_at,
});

const toUsage = (r: UsageDbRow): UsageRecord => ({
  requestId: r.request_id, keyId: r.key_id, tenantId: r.tenant_id, model: r.model, modelVersion: r.model_version, path: r.path,
  route: r.route, inputTokens: r.input_tokens, outputTokens: r.output_tokens, computeMs: r.compute_ms, status: r.status,
  costMicroUsd: r.cost_micro_usd, idempotentReplay: r.idempotent_replay === 1, createdAt: r.created_at,
});

const GROUP_SQL: Record<UsageGroup, string> = {
  model: "COALESCE(model || '@' || model_version, '(none)')",
  day: "strftime('%Y-%m-%d', created_at / 1000, 'unixepoch')",
  key: "COALESCE(key_id, '(open)')",
};

export class SqlBillingStore implements BillingStore {
  constructor(private readonly db: SqlDatabase) {}

  async createTenant(t: Tenant): Promise<void> {
    await this.db.run('INSERT INTO tenants (id, stripe_customer_id, created_at) VALUES (?, ?, ?)', [t.id, t.stripeCustomerId, t.createdAt]);
  }

  async getTenant(id: string): Promise<Tenant | null> {
    const [row] = await this.db.all<{ id: string; stripe_customer_id: string | null; created_at: number }>('SELECT * FROM tenants WHERE id = ?', [id]);
    return row ? { id: row.id, stripeCustomerId: row.stripe_customer_id, createdAt: row.created_at } : null;
  }

  async createKey(k: ApiKeyRecord): Promise<void> {
    await this.db.run(
      'INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, status, rpm, tpm, monthly_budget_micro_usd, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [k.id, k.tenantId, k.name, k.prefix, k.keyHash, k.status, k.rpm, k.tpm, k.monthlyBudgetMicroUsd, k.createdAt, k.updatedAt],
    );
  }

  async keyByPrefix(prefix: string): Promise<ApiKeyRecord | null> {
    const [row] = await this.db.all<KeyRow>('SELECT * FROM api_keys WHERE prefix = ?', [prefix]);
    return row ? toKey(row) : null;
  }

  async keyById(id: string): Promise<ApiKeyRecord | null> {
    const [row] = await this.db.all<KeyRow>('SELECT * FROM api_keys WHERE id = ?', [id]);
    return row ? toKey(row) : null;
  }

  async listKeys(tenantId?: string): Promise<ApiKeyRecord[]> {
    const rows = tenantId === undefined
      ? await this.db.all<KeyRow>('SELECT * FROM api_keys ORDER BY created_at, id')
      : await this.db.all<KeyRow>('SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id', [tenantId]);
    return rows.map(toKey);
  }

  async setKeyStatus(id: string, status: KeyStatus, at: number): Promise<boolean> {
    // A revoked key stays revoked.
    const { changes } = await this.db.run("UPDATE api_keys SET status = ?, updated_at = ? WHERE id = ? AND status != 'revoked'", [status, at, id]);
    return changes > 0;
  }

  async insertUsage(records: UsageRecord[]): Promise<void> {
    if (records.length === 0) return;
    // OR IGNORE: a batch retried after a failed flush must not count a request twice.
    await this.db.batch(records.map((r) => ({
      sql: 'INSERT OR IGNORE INTO usage (request_id, key_id, tenant_id, model, model_version, path, route, input_tokens, output_tokens, compute_ms, status, cost_micro_usd, idempotent_replay, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      params: [r.requestId, r.keyId, r.tenantId, r.model, r.modelVersion, r.path, r.route, r.inputTokens, r.outputTokens, r.computeMs, r.status, r.costMicroUsd, r.idempotentReplay ? 1 : 0, r.createdAt],
    })));
  }

  async usage(filter: { from: number; to: number; tenantId?: string }, group: UsageGroup): Promise<UsageRow[]> {
    const tenant = filter.tenantId === undefined ? '' : ' AND tenant_id = ?';
    const rows = await this.db.all<{ grp: string; requests: number; input_tokens: number; output_tokens: number; cost: number }>(
      `SELECT ${GROUP_SQL[group]} AS grp, COUNT(*) AS requests, SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, SUM(cost_micro_usd) AS cost
       FROM usage WHERE created_at >= ? AND created_at < ?${tenant} GROUP BY grp ORDER BY grp`,
      filter.tenantId === undefined ? [filter.from, filter.to] : [filter.from, filter.to, filter.tenantId],
    );
    return rows.map((r) => ({ group: r.grp, requests: r.requests, inputTokens: r.input_tokens, outputTokens: r.output_tokens, costMicroUsd: r.cost }));
  }

  async usageRecords(filter: { from: number; to: number; tenantId?: string }): Promise<UsageRecord[]> {
    const tenant = filter.tenantId === undefined ? '' : ' AND tenant_id = ?';
    const rows = await this.db.all<UsageDbRow>(
      `SELECT * FROM usage WHERE created_at >= ? AND created_at < ?${tenant} ORDER BY created_at, request_id`,
      filter.tenantId === undefined ? [filter.from, filter.to] : [filter.from, filter.to, filter.tenantId],
    );
    return rows.map(toUsage);
  }

  async spentSince(keyId: string, since: number): Promise<number> {
    const [row] = await this.db.all<{ spent: number | null }>('SELECT SUM(cost_micro_usd) AS spent FROM usage WHERE key_id = ? AND created_at >= ?', [keyId, since]);
    return row?.spent ?? 0;
  }

  async claimIdempotencyKey(keyId: string, idempotencyKey: string, requestId: string, at: number, since: number): Promise<boolean> {
    await this.db.run('DELETE FROM idempotency_keys WHERE key_id = ? AND idempotency_key = ? AND created_at < ?', [keyId, idempotencyKey, since]);
    const { changes } = await this.db.run('INSERT OR IGNORE INTO idempotency_keys (key_id, idempotency_key, request_id, created_at) VALUES (?, ?, ?, ?)', [keyId, idempotencyKey, requestId, at]);
    return changes > 0;
  }
}
