/**
 * The DynamoDB layout of billing on AWS, shared by the CDK stack (which creates the tables) and by the tests
 * (which create the same tables on a local DynamoDB). Two tables, both on-demand:
 * - billing: tenants (`tenant#<id>`), API keys (`key#<prefix>`: the hot-path lookup is one GetItem), idempotency
 *   claims (`idem#<key id>#<Idempotency-Key>`) and, from before the minute items, rate-limit windows (`rate#<key
 *   id>`, dynamo-key-limiter.ts); both expire by TTL.
 *   Also the Lambda router's privacy policies (`privacy#key#<id>`, `privacy#tenant#<id>`: privacy/dynamo-policy-store.ts)
 *   and traffic routes (`traffic#routes`, `traffic#shadows`: traffic/dynamo-route-store.ts), in no index.
 * - usage: keys' minute items (`ru#<key id>#<month>` / minute start: rate-limit counters and usage roll-ups of the
 *   requests recorded at admission, rollup-items.ts); one item per request recorded at its end, in a partition per
 *   tenant and UTC month, sorted by time; per-key monthly spend
 *   counters (`spend#<key id>`, sort key the month) that budget checks read with one Query. The byMonth index holds
 *   the items written before issue 16 only (they had a `month` attribute): all-tenant reads now query each tenant's
 *   partitions, which saves every request the index's write unit.
 */
export interface GlobalIndex {
  name: string;
  partitionKey: string;
  sortKey?: { name: string; type: 'S' | 'N' };
}

export interface TableSchema {
  partitionKey: string;
  sortKey?: string;
  indexes: GlobalIndex[];
  ttlAttribute?: string;
}

export const BILLING_TABLE: TableSchema = {
  partitionKey: 'pk',
  indexes: [
    { name: 'keysById', partitionKey: 'keyId' },
    { name: 'keysByCreation', partitionKey: 'kind', sortKey: { name: 'createdAt', type: 'N' } },
  ],
  ttlAttribute: 'expiresAt',
};

export const USAGE_TABLE: TableSchema = {
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [{ name: 'byMonth', partitionKey: 'month', sortKey: { name: 'sk', type: 'S' } }],
};

export interface BillingTableNames {
  billing: string;
  usage: string;
}

/** The environment the Lambda router reads its table names from (set by the CDK stack). */
export const TABLE_ENV = { billing: 'BILLING_TABLE', usage: 'USAGE_TABLE' } as const;
