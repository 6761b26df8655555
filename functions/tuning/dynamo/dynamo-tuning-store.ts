/**
 * TuningStore on one DynamoDB table (layout in tuning-table.ts), file bytes in a BlobStore (S3 on AWS) under the
 * same `<tenant>/<file id>` keys as the SQL store. JSON-valued fields are stored as JSON text, as the SQL store
 * keeps them, so a NaN in progress data reads back as null in both.
 *
 * Atomicity without transactions (so the same code runs on dynalite in tests): the quota is one conditional update
 * of the tenant's byte counter that reserves the file's bytes before anything else is written, and released if the
 * file then fails to be stored; a process that dies between the two leaves the counter over, never under, the
 * files' sum. Event seqs come from one atomic ADD on the job's counter item; updateJob is one conditional update
 * on status.
 *
 * `after` cursors: an id the tenant (or job) does not have lists from the newest, as OpenAI answers an unknown cursor.
 */
import {
  DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailure, queryAll } from '../../billing/dynamo/dynamo-client.js';
import { blobKey } from '../sql-tuning-store.js';
import type { BlobStore, Page, TuningStore } from '../tuning-store.js';
import { ACTIVE, type JobEvent, type JobRecord, type JobStatus, type StoredFile, type TenantModelRecord } from '../tuning-types.js';
import { TUNING_TABLE } from './tuning-table.js';

const FILE_ID = /^file-[0-9a-z]{24}$/;
const USAGE = '#usage';
const OWNER = '#owner';
const SEQ = '#seq';
const INDEX = TUNING_TABLE.localIndex.name;

const created = (createdAt: number, id: string) => `${String(createdAt).padStart(13, '0')}#${id}`;
const eventKey = (seq: number) => `e#${String(seq).padStart(10, '0')}`;
const filesPk = (tenantId: string) => `files#${tenantId}`;
const jobsPk = (tenantId: string) => `jobs#${tenantId}`;
const jobPk = (jobId: string) => `job#${jobId}`;
const modelsPk = (tenantId: string) => `models#${tenantId}`;

const toJson = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));
const fromJson = <T>(text: unknown): T | null => (typeof text === 'string' ? (JSON.parse(text) as T) : null);

const JOB_FIELDS: readonly (keyof JobRecord)[] = [
  'id', 'tenantId', 'keyId', 'model', 'trainingFile', 'validationFile', 'hyperparameters', 'suffix', 'seed', 'status', 'createdAt',
  'startedAt', 'finishedAt', 'estimatedFinish', 'error', 'fineTunedModel', 'trainedTokens', 'result', 'resultFiles', 'attempts', 'usageId',
];
const JSON_JOB_FIELDS: ReadonlySet<string> = new Set(['hyperparameters', 'error', 'result', 'resultFiles']);
const IMMUTABLE_JOB_FIELDS: ReadonlySet<string> = new Set(['id', 'tenantId']);

const jobValue = (field: string, value: unknown): unknown => (JSON_JOB_FIELDS.has(field) ? toJson(value) : value ?? null);

function toJob(item: Record<string, unknown>): JobRecord {
  const job: Record<string, unknown> = {};
  for (const field of JOB_FIELDS) job[field] = JSON_JOB_FIELDS.has(field) ? fromJson(item[field]) : item[field] ?? null;
  return job as unknown as JobRecord;
}

const toFile = (item: Record<string, unknown>): StoredFile => ({
  id: item.id as string, tenantId: item.tenantId as string, filename: item.filename as string, purpose: item.purpose as StoredFile['purpose'],
  bytes: item.bytes as number, createdAt: item.createdAt as number, rows: (item.rows as number | null) ?? null, labels: fromJson<string[]>(item.labels),
});

const toEvent = (item: Record<string, unknown>): JobEvent => ({
  id: item.id as string, jobId: item.jobId as string, seq: item.seq as number, createdAt: item.createdAt as number,
  level: item.level as JobEvent['level'], type: item.type as JobEvent['type'], message: item.message as string,
  data: fromJson<Record<string, unknown>>(item.data),
});

const toModel = (item: Record<string, unknown>): TenantModelRecord => ({
  name: item.name as string, tenantId: item.tenantId as string, jobId: item.jobId as string, base: item.base as string,
  labels: JSON.parse(item.labels as string) as string[], head: new Uint8Array(item.head as Uint8Array), createdAt: item.createdAt as number,
});

const limitOf = (page: Page): number => Math.max(0, Math.floor(page.limit));

/** DynamoDB refuses an empty sort key or one over 1,024 bytes (a ValidationException): such an id names nothing. */
const keyable = (id: string): boolean => id.length > 0 && new TextEncoder().encode(id).byteLength <= 1024;

export class DynamoTuningStore implements TuningStore {
  /** Job id -> tenant: never changes once written, so each process reads it once. */
  private readonly owners = new Map<string, string>();

  constructor(private readonly client: DynamoDBDocumentClient, private readonly table: string, private readonly blobs: BlobStore) {}

  // Files

  async insertFile(file: StoredFile, bytes: Uint8Array, quotaBytes: number): Promise<'stored' | 'over_quota'> {
    if (file.bytes !== bytes.byteLength) throw new Error(`file ${file.id}: bytes says ${file.bytes}, ${bytes.byteLength} given`);
    if (Number.isNaN(quotaBytes)) throw new Error('quotaBytes is NaN');
    const key = blobKey(file.tenantId, file.id);
    const pk = filesPk(file.tenantId);
    // Ids are random; one seen twice is a caller's bug, and writing its blob would replace the stored file's bytes.
    if (await this.item(pk, file.id)) throw new Error(`file ${file.id} exists`);
    if (file.bytes > quotaBytes || !(await this.reserve(file.tenantId, file.bytes, quotaBytes))) return 'over_quota';
    try {
      await this.blobs.put(key, bytes);
      try {
        await this.client.send(new PutCommand({
          TableName: this.table, ConditionExpression: 'attribute_not_exists(sk)',
          Item: { pk, sk: file.id, created: created(file.createdAt, file.id), ...file, labels: toJson(file.labels) },
        }));
      } catch (error) {
        await this.blobs.delete(key);
        throw error;
      }
    } catch (error) {
      await this.addUsage(file.tenantId, -file.bytes);
      throw error;
    }
    return 'stored';
  }

  async getFile(tenantId: string, id: string): Promise<StoredFile | null> {
    if (!FILE_ID.test(id)) return null;
    const item = await this.item(filesPk(tenantId), id);
    return item ? toFile(item) : null;
  }

  async fileBytes(tenantId: string, id: string): Promise<Uint8Array | null> {
    const file = await this.getFile(tenantId, id);
    return file ? this.blobs.get(blobKey(file.tenantId, file.id)) : null;
  }

  async listFiles(tenantId: string, page: Page & { purpose?: string; order?: 'asc' | 'desc' }): Promise<StoredFile[]> {
    const filter = page.purpose === undefined ? {} : { FilterExpression: '#purpose = :purpose', names: { '#purpose': 'purpose' }, values: { ':purpose': page.purpose } };
    const items = await this.listing(filesPk(tenantId), page, page.order === 'asc', filter);
    return items.map(toFile);
  }

  async deleteFile(tenantId: string, id: string): Promise<boolean> {
    if (!FILE_ID.test(id)) return false;
    // The item first: from here on no reader finds the file. Then the quota stops counting it, then the bytes go.
    let old: Record<string, unknown> | undefined;
    try {
      ({ Attributes: old } = await this.client.send(new DeleteCommand({
        TableName: this.table, Key: { pk: filesPk(tenantId), sk: id }, ConditionExpression: 'attribute_exists(sk)', ReturnValues: 'ALL_OLD',
      })));
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
    await this.addUsage(tenantId, -(old?.bytes as number));
    await this.blobs.delete(blobKey(tenantId, id));
    return true;
  }

  async storedBytes(tenantId: string): Promise<number> {
    return ((await this.item(filesPk(tenantId), USAGE))?.usedBytes as number | undefined) ?? 0;
  }

  // Jobs

  async insertJob(job: JobRecord): Promise<void> {
    // The owner first: a job whose item exists can always be updated by id.
    await this.client.send(new PutCommand({ TableName: this.table, Item: { pk: jobPk(job.id), sk: OWNER, tenantId: job.tenantId } }));
    this.owners.set(job.id, job.tenantId);
    const item: Record<string, unknown> = { pk: jobsPk(job.tenantId), sk: job.id, created: created(job.createdAt, job.id) };
    for (const field of JOB_FIELDS) item[field] = jobValue(field, job[field]);
    await this.client.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(sk)' }));
  }

  async getJob(tenantId: string, id: string): Promise<JobRecord | null> {
    const item = await this.item(jobsPk(tenantId), id);
    return item ? toJob(item) : null;
  }

  async listJobs(tenantId: string, page: Page): Promise<JobRecord[]> {
    return (await this.listing(jobsPk(tenantId), page, false)).map(toJob);
  }

  async updateJob(id: string, from: readonly JobStatus[], patch: Partial<JobRecord>): Promise<boolean> {
    if (from.length === 0) return false;
    const fields = (Object.keys(patch) as (keyof JobRecord)[]).filter((f) => patch[f] !== undefined);
    for (const field of fields) {
      if (!JOB_FIELDS.includes(field)) throw new Error(`updateJob: unknown field ${String(field)}`);
      if (IMMUTABLE_JOB_FIELDS.has(field)) throw new Error(`updateJob: ${field} cannot change`);
    }
    const tenantId = await this.ownerOf(id);
    if (tenantId === null) return false;
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = {};
    from.forEach((status, i) => (values[`:from${i}`] = status));
    const sets = fields.map((field, i) => {
      names[`#f${i}`] = field;
      values[`:v${i}`] = jobValue(field, patch[field]);
      return `#f${i} = :v${i}`;
    });
    try {
      await this.client.send(new UpdateCommand({
        TableName: this.table, Key: { pk: jobsPk(tenantId), sk: id },
        // An empty patch still answers whether the status matched.
        UpdateExpression: sets.length > 0 ? `SET ${sets.join(', ')}` : 'SET #status = #status',
        ConditionExpression: `attribute_exists(sk) AND #status IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
        ExpressionAttributeNames: names, ExpressionAttributeValues: values,
      }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** The tenant's partition of jobs, filtered and counted (strongly consistent, unlike the status index). */
  async countActiveJobs(tenantId: string): Promise<number> {
    const values: Record<string, unknown> = { ':pk': jobsPk(tenantId) };
    ACTIVE.forEach((status, i) => (values[`:s${i}`] = status));
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(new QueryCommand({
        TableName: this.table, KeyConditionExpression: 'pk = :pk', FilterExpression: `#status IN (${ACTIVE.map((_, i) => `:s${i}`).join(', ')})`,
        ExpressionAttributeNames: { '#status': 'status' }, ExpressionAttributeValues: values, ConsistentRead: true, Select: 'COUNT', ExclusiveStartKey: start,
      }));
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return count;
  }

  async jobsWithStatus(statuses: readonly JobStatus[]): Promise<JobRecord[]> {
    const { name } = TUNING_TABLE.statusIndex;
    const hits = (await Promise.all([...new Set(statuses)].map((status) => queryAll(this.client, {
      TableName: this.table, IndexName: name, KeyConditionExpression: '#status = :status',
      ExpressionAttributeNames: { '#status': 'status' }, ExpressionAttributeValues: { ':status': status },
    })))).flat();
    // The global index is eventually consistent: each job is read again, and kept if it is still in one of them.
    const jobs = await Promise.all(hits.map((hit) => this.getJob(hit.tenantId as string, hit.id as string)));
    return jobs
      .filter((job): job is JobRecord => job !== null && statuses.includes(job.status))
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  // Events

  async addEvent(event: Omit<JobEvent, 'seq'>): Promise<JobEvent> {
    const { Attributes } = await this.client.send(new UpdateCommand({
      TableName: this.table, Key: { pk: jobPk(event.jobId), sk: SEQ }, UpdateExpression: 'ADD #seq :one',
      ExpressionAttributeNames: { '#seq': 'seq' }, ExpressionAttributeValues: { ':one': 1 }, ReturnValues: 'UPDATED_NEW',
    }));
    const seq = Attributes?.seq as number;
    await this.client.send(new PutCommand({
      TableName: this.table, ConditionExpression: 'attribute_not_exists(sk)',
      Item: { pk: jobPk(event.jobId), sk: eventKey(seq), ...event, seq, data: toJson(event.data) },
    }));
    return { ...event, seq };
  }

  async listEvents(jobId: string, page: Page): Promise<JobEvent[]> {
    const limit = limitOf(page);
    if (limit === 0) return [];
    const before = page.after === undefined ? null : await this.seqOf(jobId, page.after);
    const { Items } = await this.client.send(new QueryCommand({
      TableName: this.table, KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi', ConsistentRead: true, ScanIndexForward: false, Limit: limit,
      ExpressionAttributeValues: { ':pk': jobPk(jobId), ':lo': eventKey(1), ':hi': before === null ? 'e#~' : eventKey(before - 1) },
    }));
    return (Items ?? []).map(toEvent);
  }

  async eventsAfter(jobId: string, seq: number): Promise<JobEvent[]> {
    const items = await queryAll(this.client, {
      TableName: this.table, KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi', ConsistentRead: true,
      ExpressionAttributeValues: { ':pk': jobPk(jobId), ':lo': eventKey(Math.max(0, Math.floor(seq)) + 1), ':hi': 'e#~' },
    });
    return items.map(toEvent);
  }

  // Tenant models

  async insertModel(model: TenantModelRecord): Promise<void> {
    await this.client.send(new PutCommand({
      TableName: this.table, ConditionExpression: 'attribute_not_exists(sk)',
      Item: { pk: modelsPk(model.tenantId), sk: model.name, created: created(model.createdAt, model.name), ...model, labels: JSON.stringify(model.labels) },
    }));
  }

  async getModel(tenantId: string, name: string): Promise<TenantModelRecord | null> {
    const item = await this.item(modelsPk(tenantId), name);
    return item ? toModel(item) : null;
  }

  async listModels(tenantId: string): Promise<TenantModelRecord[]> {
    const items = await queryAll(this.client, {
      TableName: this.table, IndexName: INDEX, KeyConditionExpression: 'pk = :pk', ConsistentRead: true, ScanIndexForward: false,
      ExpressionAttributeValues: { ':pk': modelsPk(tenantId) },
    });
    return items.map(toModel);
  }

  async deleteModel(tenantId: string, name: string): Promise<boolean> {
    if (!keyable(name)) return false;
    try {
      await this.client.send(new DeleteCommand({
        TableName: this.table, Key: { pk: modelsPk(tenantId), sk: name }, ConditionExpression: 'attribute_exists(sk)',
      }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  // Helpers

  private async item(pk: string, sk: string): Promise<Record<string, unknown> | null> {
    if (!keyable(sk) || !keyable(pk)) return null;
    const { Item } = await this.client.send(new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: true }));
    return Item ?? null;
  }

  /** Adds the bytes to the tenant's counter if the sum stays within the quota (one conditional write). */
  private async reserve(tenantId: string, bytes: number, quotaBytes: number): Promise<boolean> {
    try {
      await this.client.send(new UpdateCommand({
        TableName: this.table, Key: { pk: filesPk(tenantId), sk: USAGE }, UpdateExpression: 'ADD usedBytes :n',
        ConditionExpression: 'attribute_not_exists(usedBytes) OR usedBytes <= :room',
        ExpressionAttributeValues: { ':n': bytes, ':room': Math.min(quotaBytes, Number.MAX_SAFE_INTEGER) - bytes },
      }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private async addUsage(tenantId: string, bytes: number): Promise<void> {
    await this.client.send(new UpdateCommand({
      TableName: this.table, Key: { pk: filesPk(tenantId), sk: USAGE }, UpdateExpression: 'ADD usedBytes :n', ExpressionAttributeValues: { ':n': bytes },
    }));
  }

  private async ownerOf(jobId: string): Promise<string | null> {
    if (!keyable(jobId)) return null;
    const known = this.owners.get(jobId);
    if (known !== undefined) return known;
    const owner = (await this.item(jobPk(jobId), OWNER))?.tenantId as string | undefined;
    if (owner === undefined) return null;
    this.owners.set(jobId, owner);
    return owner;
  }

  private async seqOf(jobId: string, eventId: string): Promise<number | null> {
    // Events are keyed by seq; a job has at most a few hundred, so the cursor's is found by reading the job's keys.
    const items = await queryAll(this.client, {
      TableName: this.table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)', FilterExpression: '#id = :id', ProjectionExpression: '#seq',
      ConsistentRead: true, ExpressionAttributeNames: { '#id': 'id', '#seq': 'seq' }, ExpressionAttributeValues: { ':pk': jobPk(jobId), ':e': 'e#', ':id': eventId },
    });
    return (items[0]?.seq as number | undefined) ?? null;
  }

  /** A page of the partition's items newest (or oldest) first by (createdAt, id), after the cursor's item. */
  private async listing(pk: string, page: Page & { after?: string }, ascending: boolean, filter: { FilterExpression?: string; names?: Record<string, string>; values?: Record<string, unknown> } = {}): Promise<Record<string, unknown>[]> {
    const limit = limitOf(page);
    if (limit === 0) return [];
    const cursor = page.after === undefined ? null : ((await this.item(pk, page.after))?.created as string | undefined) ?? null;
    const input: QueryCommandInput = {
      TableName: this.table, IndexName: INDEX, ConsistentRead: true, ScanIndexForward: ascending,
      KeyConditionExpression: cursor === null ? 'pk = :pk' : `pk = :pk AND created ${ascending ? '>' : '<'} :cursor`,
      ExpressionAttributeValues: { ':pk': pk, ...(cursor === null ? {} : { ':cursor': cursor }), ...filter.values },
      ...(filter.FilterExpression ? { FilterExpression: filter.FilterExpression, ExpressionAttributeNames: filter.names } : {}),
    };
    // A filter applies after Limit: read on until the page is full or the partition ends.
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const result = await this.client.send(new QueryCommand({ ...input, Limit: limit - items.length, ExclusiveStartKey: start }));
      items.push(...(result.Items ?? []));
      start = result.LastEvaluatedKey;
    } while (start && items.length < limit);
    return items;
  }
}
