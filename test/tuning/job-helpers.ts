/** What the job tests share: a real store on an SQLite file, SST-2 rows as training files, a meter that records. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../../functions/http/errors.js';
import { migrationsDir } from '../../functions/node/billing-setup.js';
import { FolderBlobStore } from '../../functions/node/folder-blob-store.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import { newFileId } from '../../functions/tuning/ids.js';
import { SqlTuningStore } from '../../functions/tuning/sql-tuning-store.js';
import type { LabelledText } from '../../functions/tuning/trainer/trainer.js';
import type { TrainingCharge, TrainingMeter } from '../../functions/tuning/training-meter.js';
import type { TuningStore } from '../../functions/tuning/tuning-store.js';
import type { StoredFile } from '../../functions/tuning/tuning-types.js';
import { sst2Dir } from '../paths.js';

/** The store a server would open: migrations applied to an SQLite file, file bytes in a folder beside it. */
export async function openTuningStore(dir: string, name = 'tuning'): Promise<{ store: SqlTuningStore; close: () => void }> {
  const db = await openSqlite(join(dir, `${name}.sqlite`), migrationsDir);
  return { store: new SqlTuningStore(db, new FolderBlobStore(join(dir, `${name}-blobs`))), close: () => db.close() };
}

/** SST-2 train rows (never dev), labels named as a user would. */
export async function sst2Rows(count: number, skip = 0): Promise<LabelledText[]> {
  const lines = (await readFile(join(sst2Dir, 'train.tsv'), 'utf8')).split('\n').slice(1 + skip, 1 + skip + count);
  return lines.map((line) => {
    const [text, label] = line.split('\t');
    return { text: text!.trim(), label: label!.trim() === '1' ? 'positive' : 'negative' };
  });
}

export const jsonl = (rows: unknown[]): Uint8Array => new TextEncoder().encode(rows.map((row) => JSON.stringify(row)).join('\n') + '\n');

export async function putTrainingFile(store: TuningStore, tenantId: string, rows: LabelledText[]): Promise<StoredFile> {
  const bytes = jsonl(rows);
  const labels = [...new Set(rows.map((row) => row.label))];
  const file: StoredFile = { id: newFileId(), tenantId, filename: 'train.jsonl', purpose: 'fine-tune', bytes: bytes.length, createdAt: 1_800_000_000, rows: rows.length, labels };
  if ((await store.insertFile(file, bytes, 1 << 30)) !== 'stored') throw new Error('the test file did not fit the quota');
  return file;
}

type Settled = Parameters<TrainingMeter['settle']>[1];

/** A TrainingMeter test double: it records what it is asked, and refuses every reservation when told to. */
export class RecordingMeter implements TrainingMeter {
  readonly reserved: { charge: TrainingCharge; costMicroUsd: number; trainedTokens: number }[] = [];
  readonly settled: { charge: TrainingCharge; usage: Settled }[] = [];

  constructor(private readonly refuse = false) {}

  async reserve(charge: TrainingCharge, costMicroUsd: number, trainedTokens: number): Promise<void> {
    if (this.refuse) throw new ApiError(402, 'the key has no budget left for this job', 'insufficient_quota', 'budget_exhausted');
    this.reserved.push({ charge, costMicroUsd, trainedTokens });
  }

  async settle(charge: TrainingCharge, usage: Settled): Promise<void> {
    this.settled.push({ charge, usage });
  }
}

/** What a call threw, for asserting on an ApiError's fields. */
export async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected the call to be refused');
}
