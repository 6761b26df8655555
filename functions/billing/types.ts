/** What billing stores: tenants, API keys (hashes only), usage records (one per request, or roll-ups of many), idempotency keys. */
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

/** What an admin may change of a key after it was made; a field left out stays as it is. */
export interface KeyChange {
  name?: string | null;
  rpm?: number;
  tpm?: number;
  /** null: no budget. */
  monthlyBudgetMicroUsd?: number | null;
}

export interface UsageRecord {
  /** Made by the server, unique per billed request: the Stripe export's identifier. */
  id: string;
  /** The client's x-request-id (or the one made for it): for correlation with logs, not unique. */
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
  /** Budget reserved for this request (a hold with the record's id), released when the record is written. */
  heldMicroUsd: number;
  /**
   * How many requests the record sums: absent or 1 for one request's record; more for a roll-up (usage-rollup.ts),
   * whose id is the roll-up's own and whose requestId, createdAt and token and cost fields are its group's.
   */
  requests?: number;
}

/** A reservation of a key's monthly budget for one request in flight. */
export interface BudgetHold {
  /** The id of the usage record that will settle it. */
  id: string;
  keyId: string;
  microUsd: number;
  budgetMicroUsd: number;
  at: number;
}

/** A response kept for Idempotency-Key replays (bodies up to IDEMPOTENT_BODY_LIMIT bytes). */
export interface StoredResponse {
  status: number;
  contentType: string;
  body: Uint8Array;
}

export type IdempotencyClaim =
  | { state: 'new' }
  | { state: 'in_progress' }
  | { state: 'mismatch' }
  | { state: 'replay'; response: StoredResponse };

/** One request's hold on an Idempotency-Key. */
export interface IdempotencySlot {
  /** The key's id, or "(open)" in open mode. */
  scope: string;
  key: string;
  /** The usage record of the request that claims the key. */
  usageId: string;
}

export interface IdempotencyRequest extends IdempotencySlot {
  /** SHA-256 of method, path and body. */
  requestHash: string;
  at: number;
  /** Claims made before this are expired. */
  since: number;
  /** Claims still in progress since before this were abandoned (a process that died) and may be taken over. */
  staleBefore: number;
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
  /**
   * How long after its minute a roll-up record may still grow (DynamoDB's minute items take requests until their
   * minute and its requests end); none for stores whose records never change once written.
   */
  readonly rollupsSettleMs?: number;
  createTenant(tenant: Tenant): Promise<void>;
  getTenant(id: string): Promise<Tenant | null>;
  createKey(key: ApiKeyRecord): Promise<void>;
  keyByPrefix(prefix: string): Promise<ApiKeyRecord | null>;
  keyById(id: string): Promise<ApiKeyRecord | null>;
  listKeys(tenantId?: string): Promise<ApiKeyRecord[]>;
  setKeyStatus(id: string, status: KeyStatus, at: number): Promise<boolean>;
  /** Changes the fields given of a key that is not revoked, and returns the key as it is now; null: no such key, or revoked. */
  changeKey(id: string, change: KeyChange, at: number): Promise<ApiKeyRecord | null>;
  /** Inserting a record also releases its budget hold and adds its cost to the key's month, in one write. */
  insertUsage(records: UsageRecord[]): Promise<void>;
  usage(filter: UsageFilter, group: UsageGroup): Promise<UsageRow[]>;
  usageRecords(filter: UsageFilter): Promise<UsageRecord[]>;
  /** The key's spend in the UTC months from `since` (the start of one), written records only. */
  spentSince(keyId: string, since: number): Promise<number>;
  /**
   * Reserves `microUsd` of the key's monthly budget if the month's spend plus holds in flight plus it stay within
   * the budget; one atomic step in the shared store, so that every process serving the key sees it.
   */
  holdBudget(hold: BudgetHold): Promise<boolean>;
  claimIdempotencyKey(request: IdempotencyRequest): Promise<IdempotencyClaim>;
  /** Keeps the answer of the request that claimed the key (the slot's usage id) for replays. */
  completeIdempotencyKey(slot: IdempotencySlot, response: StoredResponse): Promise<void>;
  /** Gives the key up (the request failed or its answer is too large to keep): a retry runs again. */
  releaseIdempotencyKey(slot: IdempotencySlot): Promise<void>;
}

/** tenantId: one tenant's records; null: those of requests made without a key (open mode); absent: all. */
export interface UsageFilter {
  from: number;
  to: number;
  tenantId?: string | null;
}
