/** What billing stores: tenants, API keys (hashes only), one usage record per request, idempotency keys. */
export type KeyStatus = 'active' | 'disabled' | 'revoked';

export interface Tenant {
  id: string;
  stripeCustomerId: string | null;
  createdAt: number;
}

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string | null;
  prefix: string;
  keyHash: string;
  status: KeyStatus;
  rpm: number;
  tpm: number;
  monthlyBudgetMicroUsd: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface UsageRecord {
  requestId: string;
  keyId: string | null;
  tenantId: string | null;
  model: string | null;
  modelVersion: string | null;
  path: 'edge' | 'gpu' | null;
  route: string;
  inputTokens: number;
  outputTokens: number;
  computeMs: number;
  status: number;
  costMicroUsd: number;
  idempotentReplay: boolean;
  createdAt: number;
}

export type UsageGroup = 'model' | 'day' | 'key';

export interface UsageRow {
  group: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
}

/** The one storage interface billing needs; SQLite (Node) and D1 (Workers) implement it with the same SQL. */
export interface BillingStore {
  createTenant(tenant: Tenant): Promise<void>;
  getTenant(id: string): Promise<Tenant | null>;
  createKey(key: ApiKeyRecord): Promise<void>;
  keyByPrefix(prefix: string): Promise<ApiKeyRecord | null>;
  keyById(id: string): Promise<ApiKeyRecord | null>;
  listKeys(tenantId?: string): Promise<ApiKeyRecord[]>;
  setKeyStatus(id: string, status: KeyStatus, at: number): Promise<boolean>;
  insertUsage(records: UsageRecord[]): Promise<void>;
  usage(filter: { from: number; to: number; tenantId?: string }, group: UsageGroup): Promise<UsageRow[]>;
  usageRecords(filter: { from: number; to: number; tenantId?: string }): Promise<UsageRecord[]>;
  spentSince(keyId: string, since: number): Promise<number>;
  /** Records the first use of an idempotency key; false when it was used after `since` already. */
  claimIdempotencyKey(keyId: string, idempotencyKey: string, requestId: string, at: number, since: number): Promise<boolean>;
}
