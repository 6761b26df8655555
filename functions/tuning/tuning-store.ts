/**
 * The one storage interface fine-tuning needs. The SQL implementation (sql-tuning-store.ts) runs on SQLite in Node
 * and D1 in the Worker with the same statements; file bytes live in a BlobStore (a folder or SQLite in Node, R2 in
 * the Worker). Every read and delete is scoped by tenant: another tenant's id reads as absent.
 */
import type { JobEvent, JobRecord, JobStatus, StoredFile, TenantModelRecord } from './tuning-types.js';

export interface BlobStore {
  put(key: string, bytes: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array | null>;
  delete(key: string): Promise<void>;
}

export interface Page {
  /** The id after which to list (OpenAI's cursor); none: from the newest. */
  after?: string;
  limit: number;
}

export interface TuningStore {
  /** Stores the file if the tenant's stored bytes plus its own stay within quotaBytes; 'over_quota' otherwise, nothing written. */
  insertFile(file: StoredFile, bytes: Uint8Array, quotaBytes: number): Promise<'stored' | 'over_quota'>;
  getFile(tenantId: string, id: string): Promise<StoredFile | null>;
  fileBytes(tenantId: string, id: string): Promise<Uint8Array | null>;
  /** Newest first; order 'asc': oldest first, `after` then meaning the files after it in that order. */
  listFiles(tenantId: string, page: Page & { purpose?: string; order?: 'asc' | 'desc' }): Promise<StoredFile[]>;
  /** Deletes the record and its bytes; false when the tenant has no such file. */
  deleteFile(tenantId: string, id: string): Promise<boolean>;
  storedBytes(tenantId: string): Promise<number>;

  insertJob(job: JobRecord): Promise<void>;
  getJob(tenantId: string, id: string): Promise<JobRecord | null>;
  /** Newest first. */
  listJobs(tenantId: string, page: Page): Promise<JobRecord[]>;
  /** Applies the patch only while the job's status is one of `from` (compare-and-set); false when it was not. */
  updateJob(id: string, from: readonly JobStatus[], patch: Partial<JobRecord>): Promise<boolean>;
  /** The tenant's jobs not finished yet (ACTIVE: validating_files, queued, running): what its cap counts. */
  countActiveJobs(tenantId: string): Promise<number>;
  /** Every tenant's jobs in these statuses, oldest first: what a restarted deployment re-queues. */
  jobsWithStatus(statuses: readonly JobStatus[]): Promise<JobRecord[]>;

  /** Appends an event; its seq is the job's next one, assigned here. */
  addEvent(event: Omit<JobEvent, 'seq'>): Promise<JobEvent>;
  /** Newest first, as OpenAI lists them. */
  listEvents(jobId: string, page: Page): Promise<JobEvent[]>;
  /** Oldest first, those after `seq`: what a server-sent event stream sends next. */
  eventsAfter(jobId: string, seq: number): Promise<JobEvent[]>;

  insertModel(model: TenantModelRecord): Promise<void>;
  getModel(tenantId: string, name: string): Promise<TenantModelRecord | null>;
  listModels(tenantId: string): Promise<TenantModelRecord[]>;
  deleteModel(tenantId: string, name: string): Promise<boolean>;
}
