/**
 * PolicyStore on DynamoDB (the AWS router): one item per policy in billing's table, beside the keys and tenants it
 * belongs to (`privacy#key#<key id>`, `privacy#tenant#<tenant id>`; schema.ts). A request reads its key's and its
 * tenant's items with two GetItems in parallel, through the same few-second cache as the SQL store, so a change is
 * seen at once by the process that made it and by every other Lambda environment within POLICY_CACHE_MS. Reads are
 * strongly consistent: a put followed by a read (the admin API answers with what is now in force) sees the put.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PrivacyPolicy } from './policy.js';
import { PolicyCache, POLICY_CACHE_MS, type PolicyScope, type PolicyStore, type StoredPolicies } from './policy-store.js';

export const policyItemKey = (scope: PolicyScope, id: string) => `privacy#${scope}#${id}`;

const policyOf = (item: Record<string, unknown>): PrivacyPolicy => {
  const base = { pii: item.pii as PrivacyPolicy['pii'], retention: item.retention as PrivacyPolicy['retention'] };
  return typeof item.region === 'string' ? { ...base, region: item.region as NonNullable<PrivacyPolicy['region']> } : base;
};

export class DynamoPolicyStore implements PolicyStore {
  private readonly cache: PolicyCache;

  constructor(private readonly client: DynamoDBDocumentClient, private readonly table: string, private readonly now: () => number = Date.now, cacheMs = POLICY_CACHE_MS) {
    this.cache = new PolicyCache(now, cacheMs);
  }

  async get(scope: PolicyScope, id: string): Promise<PrivacyPolicy | null> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.table, Key: { pk: policyItemKey(scope, id) }, ConsistentRead: true }));
    return Item ? policyOf(Item) : null;
  }

  async put(scope: PolicyScope, id: string, policy: PrivacyPolicy): Promise<void> {
    await this.client.send(new PutCommand({
      TableName: this.table,
      // No region attribute for no pin (removeUndefinedValues drops it), as the SQL row's NULL.
      Item: { pk: policyItemKey(scope, id), scope, id, pii: policy.pii, retention: policy.retention, region: policy.region, updatedAt: this.now() },
    }));
    this.cache.clear();
  }

  forKey(keyId: string, tenantId: string): Promise<StoredPolicies> {
    return this.cache.read(keyId, tenantId, async () => {
      const [key, tenant] = await Promise.all([this.get('key', keyId), this.get('tenant', tenantId)]);
      return { key, tenant };
    });
  }
}
