/** BillingStore over plain SQL (migrations/*.sql): the same queries on SQLite and D1. */
import { fromBase64, toBase64 } from './base64.js';
import { ABANDONED_AFTER_MS, monthOf } from './month.js';
import type { SqlDatabase } from './sql-database.js';
import type {
  ApiKeyRecord, BillingStore, BudgetHold, IdempotencyClaim, KeyChange, IdempotencyRequest, IdempotencySlot, KeyStatus, StoredResponse, Tenant, UsageFilter, UsageGroup, UsageRecord, UsageRow,
} from './types.js';

interface KeyRow {
  id: string; tenant_id: string; name: string | null; prefix: string; key_hash: string; status: KeyStatus;
  rpm: number; tpm: number; monthly_budget_micro_usd: number | null; created_at: number; updated_at: number;
}

interface UsageDbRow {
  id: string; request_id: string; key_id: string | null; tenant_id: string | null; model: string | null; model_version: string | null;
  path: 'edge' | 'gpu' | null; route: string; input_tokens: number; output_tokens: number; compute_ms: number; status: number;
  cost_micro_usd: number; idempotent_replay: number; created_at: number; requests: number;
}

const toKey = (r: KeyRow): ApiKeyRecord => ({
  id: r.id, tenantId: r.tenant_id, name: r.name, prefix: r.prefix, keyHash: r.key_hash, status: r.status, rpm: r.rpm, tpm: r.tpm,
  monthlyBudgetMicroUsd: r.monthly_budget_micro_usd, createdAt: r.created_at, updatedAt: r.updated_at,
});

const KEY_COLUMNS: Record<keyof KeyChange, string> = { name: 'name', rpm: 'rpm', tpm: 'tpm', monthlyBudgetMicroUsd: 'monthly_budget_micro_usd' };

const toUsage = (r: UsageDbRow): UsageRecord => ({
  id: r.id, requestId: r.request_id, keyId: r.key_id, tenantId: r.tenant_id, model: r.model, modelVersion: r.model_version, path: r.path,
  route: r.route, inputTokens: r.input_tokens, outputTokens: r.output_tokens, computeMs: r.compute_ms, status: r.status,
  costMicroUsd: r.cost_micro_usd, idempotentReplay: r.idempotent_replay === 1, createdAt: r.created_at, heldMicroUsd: 0,
  ...(r.requests === 1 ? {} : { requests: r.requests }), // a roll-up's; one request's record reads back as written
});

/** `AND tenant_id ...` for a usage filter, and its parameter. */
function tenantClause(filter: UsageFilter): { sql: string; params: unknown[] } {
  if (filter.tenantId === undefined) return { sql: '', params: [] };
  if (filter.tenantId === null) return { sql: ' AND tenant_id IS NULL', params: [] };
  return { sql: ' AND tenant_id = ?', params: [filter.tenantId] };
}

const GROUP_SQL: Record<UsageGroup, string> = {
  // A request refused before its model ran (429, 402) names the model it asked for, without a version.
  model: "COALESCE(model || '@' || model_version, model, '(none)')",
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

  async changeKey(id: string, change: KeyChange, at: number): Promise<ApiKeyRecord | null> {
    // Column names come from this fixed table, never from the request.
    const set = (Object.keys(change) as (keyof KeyChange)[]).filter((field) => change[field] !== undefined)
      .map((field) => ({ column: KEY_COLUMNS[field], value: change[field] }));
    const { changes } = await this.db.run(
      `UPDATE api_keys SET ${[...set.map((s) => `${s.column} = ?`), 'updated_at = ?'].join(', ')} WHERE id = ? AND status != 'revoked'`,
      [...set.map((s) => s.value), at, id],
    );
    return changes > 0 ? this.keyById(id) : null;
  }

  async insertUsage(records: UsageRecord[]): Promise<void> {
    if (records.length === 0) return;
    // One transaction: a record, its cost in the key's month and the release of its hold go together. OR IGNORE
    // and `changes()`: a batch retried after a failed flush counts nothing twice.
    await this.db.batch(records.flatMap((r) => [
      {
        sql: 'INSERT OR IGNORE INTO usage (id, request_id, key_id, tenant_id, model, model_version, path, route, input_tokens, output_tokens, compute_ms, status, cost_micro_usd, idempotent_replay, created_at, requests) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        params: [r.id, r.requestId, r.keyId, r.tenantId, r.model, r.modelVersion, r.path, r.route, r.inputTokens, r.outputTokens, r.computeMs, r.status, r.costMicroUsd, r.idempotentReplay ? 1 : 0, r.createdAt, r.requests ?? 1],
      },
      // A record of cost 0 (refused, free) adds nothing to its month: no write (D1 bills one row for it). A hold is
      // the key's (the request's or job's key): records without a key have none.
      ...(r.keyId === null || r.costMicroUsd === 0 ? [] : [{
        sql: 'INSERT INTO key_month_spend (key_id, month, micro_usd) SELECT ?, ?, ? WHERE changes() > 0 ON CONFLICT (key_id, month) DO UPDATE SET micro_usd = micro_usd + excluded.micro_usd',
        params: [r.keyId, monthOf(r.createdAt), r.costMicroUsd],
      }]),
      ...(r.keyId === null ? [] : [{ sql: 'DELETE FROM budget_holds WHERE key_id = ? AND id = ?', params: [r.keyId, r.id] }]),
    ]));
  }

  async usage(filter: UsageFilter, group: UsageGroup): Promise<UsageRow[]> {
    const tenant = tenantClause(filter);
    const rows = await this.db.all<{ grp: string; requests: number; input_tokens: number; output_tokens: number; cost: number }>(
      `SELECT ${GROUP_SQL[group]} AS grp, SUM(requests) AS requests, SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, SUM(cost_micro_usd) AS cost
       FROM usage WHERE created_at >= ? AND created_at < ?${tenant.sql} GROUP BY grp ORDER BY grp`,
      [filter.from, filter.to, ...tenant.params],
    );
    return rows.map((r) => ({ group: r.grp, requests: r.requests, inputTokens: r.input_tokens, outputTokens: r.output_tokens, costMicroUsd: r.cost }));
  }

  async usageRecords(filter: UsageFilter): Promise<UsageRecord[]> {
    const tenant = tenantClause(filter);
    const rows = await this.db.all<UsageDbRow>(
      `SELECT * FROM usage WHERE created_at >= ? AND created_at < ?${tenant.sql} ORDER BY created_at, id`,
      [filter.from, filter.to, ...tenant.params],
    );
    return rows.map(toUsage);
  }

  async spentSince(keyId: string, since: number): Promise<number> {
    const [row] = await this.db.all<{ spent: number | null }>('SELECT SUM(micro_usd) AS spent FROM key_month_spend WHERE key_id = ? AND month >= ?', [keyId, monthOf(since)]);
    return row?.spent ?? 0;
  }

  async holdBudget(h: BudgetHold): Promise<boolean> {
    // One statement, so the check and the hold are atomic on SQLite and D1 alike. Holds of requests that died
    // without writing their record stop counting once abandoned.
    const { changes } = await this.db.run(
      `INSERT INTO budget_holds (id, key_id, micro_usd, created_at) SELECT ?, ?, ?, ?
       WHERE COALESCE((SELECT micro_usd FROM key_month_spend WHERE key_id = ? AND month = ?), 0)
         + COALESCE((SELECT SUM(micro_usd) FROM budget_holds WHERE key_id = ? AND created_at >= ?), 0) + ? <= ?`,
      [h.id, h.keyId, h.microUsd, h.at, h.keyId, monthOf(h.at), h.keyId, h.at - ABANDONED_AFTER_MS, h.microUsd, h.budgetMicroUsd],
    );
    return changes > 0;
  }

  async claimIdempotencyKey(r: IdempotencyRequest): Promise<IdempotencyClaim> {
    await this.db.run(
      'DELETE FROM idempotency_keys WHERE key_id = ? AND idempotency_key = ? AND (created_at < ? OR (status IS NULL AND created_at < ?))',
      [r.scope, r.key, r.since, r.staleBefore],
    );
    const { changes } = await this.db.run(
      'INSERT OR IGNORE INTO idempotency_keys (key_id, idempotency_key, request_hash, usage_id, created_at) VALUES (?, ?, ?, ?, ?)',
      [r.scope, r.key, r.requestHash, r.usageId, r.at],
    );
    if (changes > 0) return { state: 'new' };
    const [row] = await this.db.all<{ request_hash: string; status: number | null; content_type: string | null; body_base64: string | null }>(
      'SELECT request_hash, status, content_type, body_base64 FROM idempotency_keys WHERE key_id = ? AND idempotency_key = ?', [r.scope, r.key],
    );
    if (!row) return this.claimIdempotencyKey(r); // released between the two statements
    if (row.request_hash !== r.requestHash) return { state: 'mismatch' };
    if (row.status === null) return { state: 'in_progress' };
    return { state: 'replay', response: { status: row.status, contentType: row.content_type ?? 'application/json', body: fromBase64(row.body_base64 ?? '') } };
  }

  async completeIdempotencyKey({ scope, key, usageId }: IdempotencySlot, response: StoredResponse): Promise<void> {
    await this.db.run(
      'UPDATE idempotency_keys SET status = ?, content_type = ?, body_base64 = ? WHERE key_id = ? AND idempotency_key = ? AND usage_id = ?',
      [response.status, response.contentType, toBase64(response.body), scope, key, usageId],
    );
  }

  async releaseIdempotencyKey({ scope, key, usageId }: IdempotencySlot): Promise<void> {
    await this.db.run('DELETE FROM idempotency_keys WHERE key_id = ? AND idempotency_key = ? AND usage_id = ?', [scope, key, usageId]);
  }
}
