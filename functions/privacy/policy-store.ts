/**
 * Privacy policies per API key and per tenant (the default of its keys), in the SQL database billing uses
 * (SQLite in Node, D1 at the edge; table privacy_policies, migrations/0007). Read on every API request, so reads
 * are cached for a few seconds; a change made through this store is seen at once by this process, and by other
 * processes (Worker isolates) within the cache's lifetime.
 */
import { OPEN_POLICY, type PrivacyPolicy } from './policy.js';

/** The two calls the store makes: billing's SqlDatabase (sqlite-database.ts, d1-database.ts) fits. */
export interface PolicyDatabase {
  run(sql: string, params?: unknown[]): Promise<{ changes: number }>;
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

export type PolicyScope = 'key' | 'tenant';

interface Row {
  scope: PolicyScope;
  pii: PrivacyPolicy['pii'];
  retention: PrivacyPolicy['retention'];
}

export interface StoredPolicies {
  key: PrivacyPolicy | null;
  tenant: PrivacyPolicy | null;
}

export const POLICY_CACHE_MS = 5_000;

export class PolicyStore {
  private readonly cache = new Map<string, { at: number; value: StoredPolicies }>();

  private readonly opened: Promise<PolicyDatabase>;

  /** db may still be opening (the Node server opens it beside billing's, while the models load). */
  constructor(db: PolicyDatabase | Promise<PolicyDatabase>, private readonly now: () => number = Date.now, private readonly cacheMs = POLICY_CACHE_MS) {
    this.opened = Promise.resolve(db);
    this.opened.catch(() => {}); // a failure to open is the first request's error, not an unhandled rejection
  }

  async get(scope: PolicyScope, id: string): Promise<PrivacyPolicy | null> {
    const rows = await (await this.opened).all<Row>('SELECT scope, pii, retention FROM privacy_policies WHERE scope = ? AND id = ?', [scope, id]);
    return rows[0] ? { pii: rows[0].pii, retention: rows[0].retention } : null;
  }

  async put(scope: PolicyScope, id: string, policy: PrivacyPolicy): Promise<void> {
    await (await this.opened).run(
      'INSERT INTO privacy_policies (scope, id, pii, retention, updated_at) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (scope, id) DO UPDATE SET pii = excluded.pii, retention = excluded.retention, updated_at = excluded.updated_at',
      [scope, id, policy.pii, policy.retention, this.now()],
    );
    this.cache.clear();
  }

  /** A key's own policy and its tenant's, in one query. */
  async forKey(keyId: string, tenantId: string): Promise<StoredPolicies> {
    const cacheKey = `${keyId}\n${tenantId}`;
    const cached = this.cache.get(cacheKey);
    const at = this.now();
    if (cached && at - cached.at < this.cacheMs) return cached.value;
    const rows = await (await this.opened).all<Row>(
      "SELECT scope, pii, retention FROM privacy_policies WHERE (scope = 'key' AND id = ?) OR (scope = 'tenant' AND id = ?)",
      [keyId, tenantId],
    );
    const of = (scope: PolicyScope) => {
      const row = rows.find((r) => r.scope === scope);
      return row ? { pii: row.pii, retention: row.retention } : null;
    };
    const value = { key: of('key'), tenant: of('tenant') };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(cacheKey, { at, value });
    return value;
  }

  /** The key's policy, else its tenant's, else the open default. */
  async effective(keyId: string, tenantId: string): Promise<PrivacyPolicy> {
    const { key, tenant } = await this.forKey(keyId, tenantId);
    return key ?? tenant ?? OPEN_POLICY;
  }
}
