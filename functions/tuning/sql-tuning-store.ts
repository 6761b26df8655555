/**
 * TuningStore over plain SQL (migrations/0003_tuning.sql): the same statements on SQLite and D1. File bytes go to a
 * BlobStore under `<tenant>/<file id>`; a file exists for readers once its row does. Checks that must hold across
 * processes sharing the database (the storage quota, event order) are single statements, so each is atomic on both.
 *
 * `after` cursors: an id the tenant (or job) does not have lists from the newest, as OpenAI answers an unknown cursor.
 */
import type { SqlDatabase } from '../billing/sql-database.js';
import type { BlobStore, Page, TuningStore } from './tuning-store.js';
import { ACTIVE, type JobEvent, type JobRecord, type JobStatus, type StoredFile, type TenantModelRecord } from './tuning-types.js';

const FILE_ID = /^file-[0-9a-z]{24}$/;
// Billing's tenant id shape (key-admin.ts); 'open' fits it. Blob keys are built from it, so nothing else gets in.
const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

interface FileRow {
  id: string; tenant_id: string; filename: string; purpose: StoredFile['purpose']; bytes: number; created_at: number;
  row_count: number | null; labels: string | null;
}

interface EventRow {
  id: string; job_id: string; seq: number; created_at: number; level: JobEvent['level']; type: JobEvent['type'];
  message: string; data: string | null;
}

interface ModelRow {
  name: string; tenant_id: string; job_id: string; base: string; labels: string; head: unknown; created_at: number;
}

/** Each JobRecord field's column; JSON columns are stored as TEXT (null stays NULL). */
const JOB_COLUMNS: { [K in keyof JobRecord]: { column: string; json?: true } } = {
  id: { column: 'id' },
  tenantId: { column: 'tenant_id' },
  keyId: { column: 'key_id' },
  model: { column: 'model' },
  trainingFile: { column: 'training_file' },
  validationFile: { column: 'validation_file' },
  hyperparameters: { column: 'hyperparameters', json: true },
  suffix: { column: 'suffix' },
  seed: { column: 'seed' },
  status: { column: 'status' },
  createdAt: { column: 'created_at' },
  startedAt: { column: 'started_at' },
  finishedAt: { column: 'finished_at' },
  estimatedFinish: { column: 'estimated_finish' },
  error: { column: 'error', json: true },
  fineTunedModel: { column: 'fine_tuned_model' },
  trainedTokens: { column: 'trained_tokens' },
  result: { column: 'result', json: true },
  resultFiles: { column: 'result_files', json: true },
  attempts: { column: 'attempts' },
  usageId: { column: 'usage_id' },
};
const JOB_FIELDS = Object.keys(JOB_COLUMNS) as (keyof JobRecord)[];
/** What identifies a job and whom it belongs to: never patched. */
const IMMUTABLE_JOB_FIELDS: ReadonlySet<string> = new Set(['id', 'tenantId']);

const toJson = (value: unknown): string | null => (value === null ? null : JSON.stringify(value));
const fromJson = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

function jobColumnValue(field: keyof JobRecord, value: unknown): unknown {
  return JOB_COLUMNS[field].json ? toJson(value) : value;
}

function toJob(row: Record<string, unknown>): JobRecord {
  const job: Record<string, unknown> = {};
  for (const field of JOB_FIELDS) {
    const { column, json } = JOB_COLUMNS[field];
    const value = row[column] ?? null;
    job[field] = json ? fromJson(value as string | null) : value;
  }
  return job as unknown as JobRecord;
}

const toFile = (r: FileRow): StoredFile => ({
  id: r.id, tenantId: r.tenant_id, filename: r.filename, purpose: r.purpose, bytes: r.bytes, createdAt: r.created_at,
  rows: r.row_count, labels: fromJson<string[]>(r.labels),
});

const toEvent = (r: EventRow): JobEvent => ({
  id: r.id, jobId: r.job_id, seq: r.seq, createdAt: r.created_at, level: r.level, type: r.type, message: r.message,
  data: fromJson<Record<string, unknown>>(r.data),
});

/** better-sqlite3 reads a BLOB as a Buffer, D1 as an array of numbers or an ArrayBuffer: a plain Uint8Array here. */
function blobBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  if (Array.isArray(value)) return Uint8Array.from(value as number[]);
  throw new Error(`tenant model head: unexpected BLOB value of type ${typeof value}`);
}

const toModel = (r: ModelRow): TenantModelRecord => ({
  name: r.name, tenantId: r.tenant_id, jobId: r.job_id, base: r.base, labels: JSON.parse(r.labels) as string[],
  head: blobBytes(r.head), createdAt: r.created_at,
});

/** LIMIT for a page: SQLite reads a negative LIMIT as none. */
const limitOf = (page: Page): number => Math.max(0, Math.floor(page.limit));

export class SqlTuningStore implements TuningStore {
  constructor(private readonly db: SqlDatabase, private readonly blobs: BlobStore) {}

  // Files

  async insertFile(file: StoredFile, bytes: Uint8Array, quotaBytes: number): Promise<'stored' | 'over_quota'> {
    if (file.bytes !== bytes.byteLength) throw new Error(`file ${file.id}: bytes says ${file.bytes}, ${bytes.byteLength} given`);
    if (Number.isNaN(quotaBytes)) throw new Error('quotaBytes is NaN');
    const key = blobKey(file.tenantId, file.id);
    // Ids are random; one seen twice is a caller's bug, and writing its blob would replace the stored file's bytes.
    if ((await this.db.all('SELECT 1 FROM tuning_files WHERE id = ?', [file.id])).length > 0) throw new Error(`file ${file.id} exists`);
    await this.blobs.put(key, bytes);
    let changes: number;
    try {
      // One statement: the sum and the insert happen under SQLite's write lock (D1 runs statements one at a time),
      // so two uploads that together exceed the quota cannot both pass. D1 binds no Infinity: a finite ceiling.
      ({ changes } = await this.db.run(
        `INSERT INTO tuning_files (id, tenant_id, filename, purpose, bytes, created_at, row_count, labels)
         SELECT ?, ?, ?, ?, ?, ?, ?, ?
         WHERE (SELECT COALESCE(SUM(bytes), 0) FROM tuning_files WHERE tenant_id = ?) + ? <= ?`,
        [file.id, file.tenantId, file.filename, file.purpose, file.bytes, file.createdAt, file.rows, toJson(file.labels),
          file.tenantId, file.bytes, Math.min(quotaBytes, Number.MAX_SAFE_INTEGER)],
      ));
    } catch (error) {
      await this.blobs.delete(key);
      throw error;
    }
    if (changes > 0) return 'stored';
    await this.blobs.delete(key);
    return 'over_quota';
  }

  async getFile(tenantId: string, id: string): Promise<StoredFile | null> {
    if (!FILE_ID.test(id)) return null;
    const [row] = await this.db.all<FileRow>('SELECT * FROM tuning_files WHERE id = ? AND tenant_id = ?', [id, tenantId]);
    return row ? toFile(row) : null;
  }

  async fileBytes(tenantId: string, id: string): Promise<Uint8Array | null> {
    const file = await this.getFile(tenantId, id);
    return file ? this.blobs.get(blobKey(file.tenantId, file.id)) : null;
  }

  async listFiles(tenantId: string, page: Page & { purpose?: string; order?: 'asc' | 'desc' }): Promise<StoredFile[]> {
    const purpose = page.purpose === undefined ? { sql: '', params: [] } : { sql: ' AND purpose = ?', params: [page.purpose] };
    const order = page.order === 'asc' ? 'ASC' : 'DESC';
    const cursor = await this.cursorOf('tuning_files', tenantId, page.after, order);
    const rows = await this.db.all<FileRow>(
      `SELECT * FROM tuning_files WHERE tenant_id = ?${purpose.sql}${cursor.sql} ORDER BY created_at ${order}, id ${order} LIMIT ?`,
      [tenantId, ...purpose.params, ...cursor.params, limitOf(page)],
    );
    return rows.map(toFile);
  }

  async deleteFile(tenantId: string, id: string): Promise<boolean> {
    if (!FILE_ID.test(id)) return false;
    // Row first: from here on no reader finds the file, and quota no longer counts it.
    const { changes } = await this.db.run('DELETE FROM tuning_files WHERE id = ? AND tenant_id = ?', [id, tenantId]);
    if (changes === 0) return false;
    await this.blobs.delete(blobKey(tenantId, id));
    return true;
  }

  async storedBytes(tenantId: string): Promise<number> {
    const [row] = await this.db.all<{ total: number }>('SELECT COALESCE(SUM(bytes), 0) AS total FROM tuning_files WHERE tenant_id = ?', [tenantId]);
    return row?.total ?? 0;
  }

  // Jobs

  async insertJob(job: JobRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO tuning_jobs (${JOB_FIELDS.map((f) => JOB_COLUMNS[f].column).join(', ')}) VALUES (${JOB_FIELDS.map(() => '?').join(', ')})`,
      JOB_FIELDS.map((f) => jobColumnValue(f, job[f])),
    );
  }

  async getJob(tenantId: string, id: string): Promise<JobRecord | null> {
    const [row] = await this.db.all<Record<string, unknown>>('SELECT * FROM tuning_jobs WHERE id = ? AND tenant_id = ?', [id, tenantId]);
    return row ? toJob(row) : null;
  }

  async listJobs(tenantId: string, page: Page): Promise<JobRecord[]> {
    const cursor = await this.cursorOf('tuning_jobs', tenantId, page.after);
    const rows = await this.db.all<Record<string, unknown>>(
      `SELECT * FROM tuning_jobs WHERE tenant_id = ?${cursor.sql} ORDER BY created_at DESC, id DESC LIMIT ?`,
      [tenantId, ...cursor.params, limitOf(page)],
    );
    return rows.map(toJob);
  }

  async updateJob(id: string, from: readonly JobStatus[], patch: Partial<JobRecord>): Promise<boolean> {
    if (from.length === 0) return false;
    const fields = (Object.keys(patch) as (keyof JobRecord)[]).filter((f) => patch[f] !== undefined);
    for (const field of fields) {
      if (!(field in JOB_COLUMNS)) throw new Error(`updateJob: unknown field ${String(field)}`);
      if (IMMUTABLE_JOB_FIELDS.has(field)) throw new Error(`updateJob: ${field} cannot change`);
    }
    // An empty patch still answers whether the status matched.
    const sets = fields.length > 0 ? fields.map((f) => `${JOB_COLUMNS[f].column} = ?`).join(', ') : 'status = status';
    const { changes } = await this.db.run(
      `UPDATE tuning_jobs SET ${sets} WHERE id = ? AND status IN (${from.map(() => '?').join(', ')})`,
      [...fields.map((f) => jobColumnValue(f, patch[f])), id, ...from],
    );
    return changes > 0;
  }

  async countActiveJobs(tenantId: string): Promise<number> {
    const [row] = await this.db.all<{ n: number }>(
      `SELECT COUNT(*) AS n FROM tuning_jobs WHERE tenant_id = ? AND status IN (${ACTIVE.map(() => '?').join(', ')})`,
      [tenantId, ...ACTIVE],
    );
    return row?.n ?? 0;
  }

  async jobsWithStatus(statuses: readonly JobStatus[]): Promise<JobRecord[]> {
    if (statuses.length === 0) return [];
    const rows = await this.db.all<Record<string, unknown>>(
      `SELECT * FROM tuning_jobs WHERE status IN (${statuses.map(() => '?').join(', ')}) ORDER BY created_at, id`,
      [...statuses],
    );
    return rows.map(toJob);
  }

  // Events

  async addEvent(event: Omit<JobEvent, 'seq'>): Promise<JobEvent> {
    // The next seq is read and used in one statement: concurrent writers (other processes included) never share one.
    await this.db.run(
      `INSERT INTO tuning_job_events (id, job_id, seq, created_at, level, type, message, data)
       SELECT ?, ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ? FROM tuning_job_events WHERE job_id = ?`,
      [event.id, event.jobId, event.createdAt, event.level, event.type, event.message, toJson(event.data), event.jobId],
    );
    const [row] = await this.db.all<{ seq: number }>('SELECT seq FROM tuning_job_events WHERE id = ?', [event.id]);
    if (!row) throw new Error(`event ${event.id} was not stored`);
    return { ...event, seq: row.seq };
  }

  async listEvents(jobId: string, page: Page): Promise<JobEvent[]> {
    const [cursor] = page.after === undefined ? [] : await this.db.all<{ seq: number }>(
      'SELECT seq FROM tuning_job_events WHERE id = ? AND job_id = ?', [page.after, jobId],
    );
    const rows = await this.db.all<EventRow>(
      `SELECT * FROM tuning_job_events WHERE job_id = ?${cursor ? ' AND seq < ?' : ''} ORDER BY seq DESC LIMIT ?`,
      [jobId, ...(cursor ? [cursor.seq] : []), limitOf(page)],
    );
    return rows.map(toEvent);
  }

  async eventsAfter(jobId: string, seq: number): Promise<JobEvent[]> {
    const rows = await this.db.all<EventRow>('SELECT * FROM tuning_job_events WHERE job_id = ? AND seq > ? ORDER BY seq', [jobId, seq]);
    return rows.map(toEvent);
  }

  // Tenant models

  async insertModel(model: TenantModelRecord): Promise<void> {
    await this.db.run(
      'INSERT INTO tenant_models (name, tenant_id, job_id, base, labels, head, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [model.name, model.tenantId, model.jobId, model.base, JSON.stringify(model.labels), model.head, model.createdAt],
    );
  }

  async getModel(tenantId: string, name: string): Promise<TenantModelRecord | null> {
    const [row] = await this.db.all<ModelRow>('SELECT * FROM tenant_models WHERE name = ? AND tenant_id = ?', [name, tenantId]);
    return row ? toModel(row) : null;
  }

  async listModels(tenantId: string): Promise<TenantModelRecord[]> {
    const rows = await this.db.all<ModelRow>('SELECT * FROM tenant_models WHERE tenant_id = ? ORDER BY created_at DESC, name DESC', [tenantId]);
    return rows.map(toModel);
  }

  async deleteModel(tenantId: string, name: string): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM tenant_models WHERE name = ? AND tenant_id = ?', [name, tenantId]);
    return changes > 0;
  }

  /** The `AND` clause that starts a (created_at, id) listing in `order` after the tenant's row `after`; none if unknown. */
  private async cursorOf(table: 'tuning_files' | 'tuning_jobs', tenantId: string, after: string | undefined, order: 'ASC' | 'DESC' = 'DESC'): Promise<{ sql: string; params: unknown[] }> {
    if (after === undefined) return { sql: '', params: [] };
    const [row] = await this.db.all<{ created_at: number }>(`SELECT created_at FROM ${table} WHERE id = ? AND tenant_id = ?`, [after, tenantId]);
    if (!row) return { sql: '', params: [] };
    const past = order === 'ASC' ? '>' : '<';
    return { sql: ` AND (created_at ${past} ? OR (created_at = ? AND id ${past} ?))`, params: [row.created_at, row.created_at, after] };
  }
}

/** Where a file's bytes live. Both parts are checked by shape, so no id reaches a blob store as a path. */
export function blobKey(tenantId: string, fileId: string): string {
  if (!TENANT_ID.test(tenantId)) throw new Error(`tenant id ${JSON.stringify(tenantId.slice(0, 70))} has not the shape of one`);
  if (!FILE_ID.test(fileId)) throw new Error(`file id ${JSON.stringify(fileId.slice(0, 70))} has not the shape of one`);
  return `${tenantId}/${fileId}`;
}
