/**
 * Privacy policies per API key and per tenant (the default of its keys), in the SQL database billing uses
 * (SQLite in Node, D1 at the edge; table privacy_policies, migrations/0007 and 0009). Read on every API request, so
 * reads are cached for a few seconds; a change made through this store is seen at once by this process, and by other
 * processes (Worker isolates) within the cache's lifetime.
 */
import type { Region } from '../registry/registry.js';
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
  region: Region | null;
}

export interface StoredPolicies {
  key: PrivacyPolicy | null;
  tenant: PrivacyPolicy | null;
}

/** Where the policy in force came from: the key's own row, its tenant's, or the default. */
export type PolicySource = PolicyScope | 'default';

export interface PolicyInForce {
  policy: PrivacyPolicy;
  source: PolicySource;
  regionSource: PolicySource;
}

/**
 * The key's policy, else its tenant's, else the default; the region on its own: a key row without one keeps its
 * tenant's pin (setting a key's pii must not unpin it from its tenant's jurisdiction).
 */
export function inForce({ key, tenant }: StoredPolicies, defaults: PrivacyPolicy = OPEN_POLICY): PolicyInForce {
  const own = key ?? tenant;
  const source: PolicySource = key ? 'key' : tenant ? 'tenant' : 'default';
  const region = key?.region ?? tenant?.region ?? defaults.region;
  const regionSource: PolicySource = key?.region ? 'key' : tenant?.region ? 'tenant' : 'default';
  const base = { pii: (own ?? defaults).pii, retention: (own ?? defaults).retention };
  return { policy: region ? { ...base, region } : base, source, regionSource };
}

const SELECT = 'SELECT scope, pii, retention, region FROM privacy_policies';
const policyOf = (row: Row): PrivacyPolicy => (row.region ? { pii: row.pii, retention: row.retention, region: row.region } : { pii: row.pii, retention: row.retention });

export const POLICY_CACHE_MS = 5_000;

/**
 * What the plugin, its admin routes and the CLI need of a policy store: SqlPolicyStore here, DynamoPolicyStore
 * (dynamo-policy-store.ts) on AWS. forKey may answer from a cache at most POLICY_CACHE_MS old; put is seen at once
 * by the same store.
 */
export interface PolicyStore {
  get(scope: PolicyScope, id: string): Promise<PrivacyPolicy | null>;
  put(scope: PolicyScope, id: string, policy: PrivacyPolicy): Promise<void>;
  /** A key's own policy and its tenant's. */
  forKey(keyId: string, tenantId: string): Promise<StoredPolicies>;
}

/** Stored policies per "key id, tenant id", each kept for a few seconds (both stores' read cache). */
export class PolicyCache {
  private readonly entries = new Map<string, { at: number; value: StoredPolicies }>();

  constructor(private readonly now: () => number = Date.now, private readonly cacheMs = POLICY_CACHE_MS) {}

  async read(keyId: string, tenantId: string, load: () => Promise<StoredPolicies>): Promise<StoredPolicies> {
    const cacheKey = `${keyId}\n${tenantId}`;
    const cached = this.entries.get(cacheKey);
    const at = this.now();
    if (cached && at - cached.at < this.cacheMs) return cached.value;
    const value = await load();
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(cacheKey, { at, value });
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}

export class SqlPolicyStore implements PolicyStore {
  private readonly cache: PolicyCache;

  private readonly opened: Promise<PolicyDatabase>;

  /** db may still be opening (the Node server opens it beside billing's, while the models load). */
  constructor(db: PolicyDatabase | Promise<PolicyDatabase>, private readonly now: () => number = Date.now, cacheMs = POLICY_CACHE_MS) {
    this.opened = Promise.resolve(db);
    this.opened.catch(() => {}); // a failure to open is the first request's error, not an unhandled rejection
    this.cache = new PolicyCache(now, cacheMs);
  }

  async get(scope: PolicyScope, id: string): Promise<PrivacyPolicy | null> {
    const rows = await (await this.opened).all<Row>(`${SELECT} WHERE scope = ? AND id = ?`, [scope, id]);
    return rows[0] ? policyOf(rows[0]) : null;
  }

  async put(scope: PolicyScope, id: string, policy: PrivacyPolicy): Promise<void> {
    await (await this.opened).run(
      'INSERT INTO privacy_policies (scope, id, pii, retention, region, updated_at) VALUES (?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (scope, id) DO UPDATE SET pii = excluded.pii, retention = excluded.retention, region = excluded.region, updated_at = excluded.updated_at',
      [scope, id, policy.pii, policy.retention, policy.region ?? null, this.now()],
    );
    this.cache.clear();
  }

  /** A key's own policy and its tenant's, in one query. */
  async forKey(keyId: string, tenantId: string): Promise<StoredPolicies> {
    return this.cache.read(keyId, tenantId, async () => {
      const rows = await (await this.opened).all<Row>(`${SELECT} WHERE (scope = 'key' AND id = ?) OR (scope = 'tenant' AND id = ?)`, [keyId, tenantId]);
      const of = (scope: PolicyScope) => {
        const row = rows.find((r) => r.scope === scope);
        return row ? policyOf(row) : null;
      };
      return { key: of('key'), tenant: of('tenant') };
    });
  }

  /** The policy in force for a key (inForce). */
  async effective(keyId: string, tenantId: string): Promise<PrivacyPolicy> {
    return inForce(await this.forKey(keyId, tenantId)).policy;
  }
}

/** The SQL store under the name the entries construct it by (Node, Worker, CLI). */
export const PolicyStore = SqlPolicyStore;
