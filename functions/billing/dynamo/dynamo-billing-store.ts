/**
 * BillingStore on DynamoDB (the AWS router): the layout is in schema.ts. Reads on the request path are one
 * GetItem for a key by its prefix and one Query for a key's spend since the start of the month; usage records are written with a condition so a retried batch
 * never counts a request twice, and reports query one partition per tenant and month.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { fromBase64, toBase64 } from '../base64.js';
import { monthOf, monthStart } from '../month.js';
import type {
  ApiKeyRecord, BillingStore, BudgetHold, IdempotencyClaim, KeyChange, IdempotencyRequest, IdempotencySlot, KeyStatus, StoredResponse, Tenant, UsageFilter, UsageGroup, UsageRecord, UsageRow,
} from '../types.js';
import { inParallel, isConditionFailure, queryAll, queryPages } from './dynamo-client.js';
import { recordsOfRollup, rollupKey } from './rollup-items.js';
import type { BillingTableNames } from './schema.js';
import { SUMMED_FIELDS, UsageSummary } from './usage-groups.js';

const WRITE_CONCURRENCY = 16;
const QUERY_CONCURRENCY = 8;
const IDEMPOTENCY_TTL_S = 2 * 24 * 60 * 60;
const OPEN_TENANT = '(open)';

const sortKey = (createdAt: number, id: string) => `${String(createdAt).padStart(13, '0')}#${id}`;
const usagePartition = (tenantId: string | null, month: string) => `${tenantId ?? OPEN_TENANT}#${month}`;

/** The UTC months [from, to) touches, oldest first. */
export function monthsBetween(from: number, to: number): string[] {
  const months: string[] = [];
  const d = new Date(from);
  let year = d.getUTCFullYear();
  let month = d.getUTCMonth();
  while (Date.UTC(year, month, 1) < to) {
    months.push(`${year}-${String(month + 1).padStart(2, '0')}`);
    if (++month === 12) [year, month] = [year + 1, 0];
  }
  return months;
}

const KEY_FIELDS = ['id', 'tenantId', 'name', 'prefix', 'keyHash', 'status', 'rpm', 'tpm', 'monthlyBudgetMicroUsd', 'createdAt', 'updatedAt'] as const;
const USAGE_FIELDS = ['id', 'requestId', 'keyId', 'tenantId', 'model', 'modelVersion', 'path', 'route', 'inputTokens', 'outputTokens',
  'computeMs', 'status', 'costMicroUsd', 'idempotentReplay', 'createdAt'] as const;

function pick<T>(item: Record<string, unknown>, fields: readonly string[]): T {
  return Object.fromEntries(fields.map((f) => [f, item[f] ?? null])) as T;
}

export class DynamoBillingStore implements BillingStore {
  /** A key's minute item takes requests until its minute ends, and those in flight then: two minutes covers them. */
  readonly rollupsSettleMs = 120_000;

  constructor(private readonly client: DynamoDBDocumentClient, private readonly tables: BillingTableNames) {}

  async createTenant(t: Tenant): Promise<void> {
    await this.client.send(new PutCommand({
      TableName: this.tables.billing, Item: { pk: `tenant#${t.id}`, ...t }, ConditionExpression: 'attribute_not_exists(pk)',
    }));
  }

  async getTenant(id: string): Promise<Tenant | null> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tables.billing, Key: { pk: `tenant#${id}` }, ConsistentRead: true }));
    return Item ? pick<Tenant>(Item, ['id', 'stripeCustomerId', 'createdAt']) : null;
  }

  async createKey(k: ApiKeyRecord): Promise<void> {
    // keyId and kind feed the two indexes (by id for the admin API, by creation for listings).
    await this.client.send(new PutCommand({
      TableName: this.tables.billing, Item: { pk: `key#${k.prefix}`, keyId: k.id, kind: 'key', ...k }, ConditionExpression: 'attribute_not_exists(pk)',
    }));
  }

  /** The hot path reads eventually consistent (half the cost; the authenticator caches for seconds anyway). */
  async keyByPrefix(prefix: string, consistent = false): Promise<ApiKeyRecord | null> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tables.billing, Key: { pk: `key#${prefix}` }, ConsistentRead: consistent }));
    return Item ? pick<ApiKeyRecord>(Item, KEY_FIELDS) : null;
  }

  async keyById(id: string): Promise<ApiKeyRecord | null> {
    const [hit] = await queryAll(this.client, {
      TableName: this.tables.billing, IndexName: 'keysById', KeyConditionExpression: 'keyId = :id', ExpressionAttributeValues: { ':id': id },
    });
    if (!hit) return null;
    // The index is eventually consistent: read the item itself for its current status.
    return this.keyByPrefix(hit.prefix as string, true);
  }

  async listKeys(tenantId?: string): Promise<ApiKeyRecord[]> {
    const items = await queryAll(this.client, {
      TableName: this.tables.billing, IndexName: 'keysByCreation', KeyConditionExpression: 'kind = :kind',
      ...(tenantId === undefined
        ? { ExpressionAttributeValues: { ':kind': 'key' } }
        : { FilterExpression: 'tenantId = :tenant', ExpressionAttributeValues: { ':kind': 'key', ':tenant': tenantId } }),
    });
    return items.map((item) => pick<ApiKeyRecord>(item, KEY_FIELDS)).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async setKeyStatus(id: string, status: KeyStatus, at: number): Promise<boolean> {
    const key = await this.keyById(id);
    if (!key) return false;
    try {
      // A revoked key stays revoked.
      await this.client.send(new UpdateCommand({
        TableName: this.tables.billing, Key: { pk: `key#${key.prefix}` }, UpdateExpression: 'SET #status = :status, updatedAt = :at',
        ConditionExpression: 'attribute_exists(pk) AND #status <> :revoked', ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': status, ':at': at, ':revoked': 'revoked' },
      }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async changeKey(id: string, change: KeyChange, at: number): Promise<ApiKeyRecord | null> {
    const key = await this.keyById(id);
    if (!key) return null;
    const fields = (Object.keys(change) as (keyof KeyChange)[]).filter((field) => change[field] !== undefined);
    try {
      const { Attributes } = await this.client.send(new UpdateCommand({
        TableName: this.tables.billing, Key: { pk: `key#${key.prefix}` },
        UpdateExpression: `SET ${[...fields.map((_, i) => `#f${i} = :f${i}`), 'updatedAt = :at'].join(', ')}`,
        ConditionExpression: 'attribute_exists(pk) AND #status <> :revoked',
        ExpressionAttributeNames: { '#status': 'status', ...Object.fromEntries(fields.map((field, i) => [`#f${i}`, field])) },
        ExpressionAttributeValues: { ':at': at, ':revoked': 'revoked', ...Object.fromEntries(fields.map((field, i) => [`:f${i}`, change[field]])) },
        ReturnValues: 'ALL_NEW',
      }));
      if (key.monthlyBudgetMicroUsd === null && typeof change.monthlyBudgetMicroUsd === 'number') await this.countRollupsIntoBudget(id, at);
      return Attributes ? pick<ApiKeyRecord>(Attributes, KEY_FIELDS) : null;
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  async insertUsage(records: UsageRecord[]): Promise<void> {
    await inParallel(records, WRITE_CONCURRENCY, (r) => this.insertOne(r));
  }

  private async insertOne(r: UsageRecord): Promise<void> {
    const month = monthOf(r.createdAt);
    try {
      await this.client.send(new PutCommand({
        TableName: this.tables.usage,
        // No `month` attribute: the item stays out of the byMonth index (its write unit), see rangeQueries.
        Item: { pk: usagePartition(r.tenantId, month), sk: sortKey(r.createdAt, r.id), ...r },
        ConditionExpression: 'attribute_not_exists(pk)',
      }));
    } catch (error) {
      if (isConditionFailure(error)) return; // written by an earlier attempt of this batch
      throw error;
    }
    // The counter serves budget checks only; invoices and reports come from the records. `committed` is the spend
    // plus the holds of requests in flight: writing a record turns its hold into its cost. Without transactions it
    // can miss a request whose record was written just before a failure, never count one twice.
    if (r.keyId && (r.costMicroUsd > 0 || r.heldMicroUsd > 0)) {
      await this.client.send(new UpdateCommand({
        TableName: this.tables.usage, Key: { pk: `spend#${r.keyId}`, sk: month }, UpdateExpression: 'ADD spent :cost, committed :delta',
        ExpressionAttributeValues: { ':cost': r.costMicroUsd, ':delta': r.costMicroUsd - r.heldMicroUsd },
      }));
    }
  }

  /** Sums the range's records page by page (a projection of the summed fields): memory stays one row per group. */
  async usage(filter: UsageFilter, group: UsageGroup): Promise<UsageRow[]> {
    const summary = new UsageSummary(group);
    await inParallel(await this.rangeQueries(filter), QUERY_CONCURRENCY, async (query) => {
      // Attribute names by placeholder: some of them may be DynamoDB reserved words.
      const projection = Object.fromEntries(SUMMED_FIELDS.map((field, i) => [`#f${i}`, field]));
      const input = { ...query, ProjectionExpression: Object.keys(projection).join(', '), ExpressionAttributeNames: { ...projection } };
      for await (const page of queryPages(this.client, input)) {
        for (const item of page) summary.add(item as unknown as Parameters<UsageSummary['add']>[0]);
      }
    });
    await inParallel(await this.rollupQueries(filter), QUERY_CONCURRENCY, async (query) => {
      for await (const page of queryPages(this.client, query)) {
        for (const item of page) for (const record of recordsOfRollup(item)) summary.add(record);
      }
    });
    return summary.result();
  }

  async usageRecords(filter: UsageFilter): Promise<UsageRecord[]> {
    const pages = await inParallel(await this.rangeQueries(filter), QUERY_CONCURRENCY, (query) => queryAll(this.client, query));
    // Records written before usage ids existed are keyed by their request id. All tenants' come partition by partition.
    const records = pages.flat().map((item) => ({ ...pick<UsageRecord>(item, USAGE_FIELDS), id: (item.id ?? item.requestId) as string, heldMicroUsd: 0 }));
    const rollups = (await inParallel(await this.rollupQueries(filter), QUERY_CONCURRENCY, (query) => queryAll(this.client, query))).flat().flatMap(recordsOfRollup);
    if (rollups.length === 0 && filter.tenantId !== undefined) return records;
    return [...records, ...rollups].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * The queries of the keys' minute roll-ups (rollup-items.ts) in [from, to): one per key of the tenant (every key
   * for all tenants; none for requests made without a key) and month; a roll-up is dated at its minute's start.
   */
  private async rollupQueries(filter: UsageFilter) {
    if (filter.tenantId === null) return [];
    const keys = await this.listKeys(filter.tenantId);
    const first = rollupKey('', filter.from).sk;
    const last = rollupKey('', filter.to - 1).sk;
    return monthsBetween(filter.from, filter.to).flatMap((month) => keys.map((key) => ({
      TableName: this.tables.usage, KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': `ru#${key.id}#${month}`, ':from': first, ':to': last },
    })));
  }

  /** What a key's minute roll-ups of the UTC month billed (requests recorded at admission). */
  private async rollupSpend(keyId: string, month: string): Promise<number> {
    const items = await queryAll(this.client, { TableName: this.tables.usage, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `ru#${keyId}#${month}` } });
    return items.flatMap(recordsOfRollup).reduce((sum, r) => sum + r.costMicroUsd, 0);
  }

  /**
   * The queries of [from, to): one per usage partition (tenant and month) the range touches; "<to>#" sorts after
   * every record before `to` and before every one at `to`. All tenants (the export, the admin's usage) are every
   * tenant that has a key, and requests without a key: records are not written to the byMonth index any more (one
   * write unit a request less, issue 16), and the tenant partitions hold the records of before that too.
   */
  private async rangeQueries(filter: UsageFilter) {
    const range = { ':from': sortKey(filter.from, ''), ':to': sortKey(filter.to, '') };
    const tenants = filter.tenantId !== undefined ? [filter.tenantId] : [...new Set((await this.listKeys()).map((k) => k.tenantId)), null];
    return monthsBetween(filter.from, filter.to).flatMap((month) => tenants.map((tenantId) => ({
      TableName: this.tables.usage, KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': usagePartition(tenantId, month), ...range },
    })));
  }

  /** The spend counters count whole UTC months: `since` must be the start of one (as budget checks ask). */
  async spentSince(keyId: string, since: number): Promise<number> {
    if (monthStart(since) !== since) throw new RangeError('DynamoBillingStore.spentSince counts whole UTC months');
    const counters = await queryAll(this.client, {
      TableName: this.tables.usage, KeyConditionExpression: 'pk = :pk AND sk >= :month',
      ExpressionAttributeValues: { ':pk': `spend#${keyId}`, ':month': monthOf(since) },
    });
    // Requests recorded at admission (keys without a budget) are in the key's roll-ups, not in its counters.
    const months = monthsBetween(since, Math.max(since + 1, Date.now() + 1));
    const rolledUp = await inParallel(months, QUERY_CONCURRENCY, (month) => this.rollupSpend(keyId, month));
    return counters.reduce((sum, item) => sum + ((item.spent as number | undefined) ?? 0), 0) + rolledUp.reduce((a, b) => a + b, 0);
  }

  /**
   * A budget given to a key that had none starts from what the key's roll-ups billed this month (they never went
   * through its counter): the part not added yet (`fromRollups` remembers what was) goes into `spent` and
   * `committed`. Requests another instance records at admission while it still holds the key without a budget (its
   * key cache, seconds) are not added: the counter may miss those, as it may miss a record written before a failure.
   */
  private async countRollupsIntoBudget(keyId: string, at: number): Promise<void> {
    const month = monthOf(at);
    const total = await this.rollupSpend(keyId, month);
    const key = { pk: `spend#${keyId}`, sk: month };
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tables.usage, Key: key, ConsistentRead: true }));
    const added = (Item?.fromRollups as number | undefined) ?? 0;
    if (total === added) return;
    try {
      await this.client.send(new UpdateCommand({
        TableName: this.tables.usage, Key: key, UpdateExpression: 'SET fromRollups = :total ADD spent :delta, committed :delta',
        ConditionExpression: added === 0 ? 'attribute_not_exists(fromRollups) OR fromRollups = :added' : 'fromRollups = :added',
        ExpressionAttributeValues: { ':total': total, ':delta': total - added, ':added': added },
      }));
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // another admin call counted them first
    }
  }

  /**
   * DynamoDB conditions cannot add, so the hold's condition compares `committed` (spend + holds) with the budget
   * less this hold. A hold whose request died before its record was written stays counted until the month ends:
   * the key may be refused early, never allowed past its budget.
   */
  async holdBudget(h: BudgetHold): Promise<boolean> {
    const limit = h.budgetMicroUsd - h.microUsd;
    if (limit < 0) return false;
    try {
      await this.client.send(new UpdateCommand({
        TableName: this.tables.usage, Key: { pk: `spend#${h.keyId}`, sk: monthOf(h.at) }, UpdateExpression: 'ADD committed :amount',
        ConditionExpression: 'attribute_not_exists(committed) OR committed <= :limit', ExpressionAttributeValues: { ':amount': h.microUsd, ':limit': limit },
      }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private idempotencyKey(scope: string, key: string) {
    return { pk: `idem#${scope}#${key}` };
  }

  async claimIdempotencyKey(r: IdempotencyRequest): Promise<IdempotencyClaim> {
    try {
      await this.client.send(new PutCommand({
        TableName: this.tables.billing,
        Item: { ...this.idempotencyKey(r.scope, r.key), requestHash: r.requestHash, usageId: r.usageId, createdAt: r.at, expiresAt: Math.floor(r.at / 1000) + IDEMPOTENCY_TTL_S },
        ConditionExpression: 'attribute_not_exists(pk) OR createdAt < :since OR (attribute_not_exists(#status) AND createdAt < :stale)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':since': r.since, ':stale': r.staleBefore },
      }));
      return { state: 'new' };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tables.billing, Key: this.idempotencyKey(r.scope, r.key), ConsistentRead: true }));
    if (!Item) return this.claimIdempotencyKey(r); // released in between
    if (Item.requestHash !== r.requestHash) return { state: 'mismatch' };
    if (typeof Item.status !== 'number') return { state: 'in_progress' };
    return { state: 'replay', response: { status: Item.status, contentType: (Item.contentType as string | undefined) ?? 'application/json', body: fromBase64((Item.bodyBase64 as string | undefined) ?? '') } };
  }

  async completeIdempotencyKey({ scope, key, usageId }: IdempotencySlot, response: StoredResponse): Promise<void> {
    try {
      await this.client.send(new UpdateCommand({
        TableName: this.tables.billing, Key: this.idempotencyKey(scope, key),
        UpdateExpression: 'SET #status = :status, contentType = :type, bodyBase64 = :body', ConditionExpression: 'usageId = :usage',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': response.status, ':type': response.contentType, ':body': toBase64(response.body), ':usage': usageId },
      }));
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // taken over by another request: nothing to complete
    }
  }

  async releaseIdempotencyKey({ scope, key, usageId }: IdempotencySlot): Promise<void> {
    try {
      await this.client.send(new DeleteCommand({
        TableName: this.tables.billing, Key: this.idempotencyKey(scope, key), ConditionExpression: 'usageId = :usage', ExpressionAttributeValues: { ':usage': usageId },
      }));
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}
