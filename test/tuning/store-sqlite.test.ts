/**
 * The TuningStore contract on an SQLite file (migrations/ applied as the Node server applies them) with file bytes
 * in a folder; then what only real files show: several processes sharing the database keep the quota and the event
 * order, a blob store that fails leaves no row, a row the database refuses leaves no blob.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderBlobStore } from '../../functions/node/folder-blob-store.js';
import { migrationsDir } from '../../functions/node/billing-setup.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import { SqlTuningStore } from '../../functions/tuning/sql-tuning-store.js';
import { MemoryBlobStore } from '../../functions/tuning/memory-blob-store.js';
import type { FilePurpose } from '../../functions/tuning/tuning-types.js';
import { repoRoot } from '../paths.js';
import { sqliteRows } from '../billing/sqlite-rows.js';
import { tuningStoreContract } from './store-contract.js';
import { storedFile } from './store-records.js';

let dir: string;
const closers: (() => void)[] = [];

async function openStore(name: string, blobsRoot = join(dir, `${name}-blobs`)) {
  const db = await openSqlite(join(dir, `${name}.sqlite`), migrationsDir);
  closers.push(() => db.close());
  const blobs = new FolderBlobStore(blobsRoot);
  return { store: new SqlTuningStore(db, blobs), blobs, db };
}

/** A process of store-race-child.ts: ready once it has opened the database, started by go(). */
function startRacer(database: string, blobsRoot: string, name: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/tuning/store-race-child.ts'), database, blobsRoot, name], {
    cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  let markReady = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  const result = new Promise<{ stored: number; seqs: number[] }>((resolve, reject) => child.once('exit', (code) => (
    code === 0 ? resolve(JSON.parse(out.slice('ready\n'.length))) : reject(new Error(`${name} exited with ${code}: ${out}`)))));
  // A racer that dies before it is ready fails the test through `result`, not a hang on `ready`.
  void result.catch(markReady);
  return { ready, result, go: () => child.stdin.end('go\n') };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tuning-store-'));
});
afterAll(async () => {
  for (const close of closers) close();
  await rm(dir, { recursive: true, force: true });
});

tuningStoreContract('SQLite file + folder blobs', () => openStore('contract'));
tuningStoreContract('SQLite in memory + memory blobs', async () => {
  const db = await openSqlite(':memory:', migrationsDir);
  closers.push(() => db.close());
  const blobs = new MemoryBlobStore();
  return { store: new SqlTuningStore(db, blobs), blobs };
});

describe('SQLite tuning store, beyond the contract', () => {
  it('keeps the quota and the event order across processes sharing the database', async () => {
    const database = join(dir, 'shared.sqlite');
    const blobsRoot = join(dir, 'shared-blobs');
    await openStore('shared', blobsRoot); // applies the migrations once, before the racers open the file
    const racers = [1, 2, 3].map((n) => startRacer(database, blobsRoot, `racer-${n}`));
    await Promise.all(racers.map((r) => r.ready));
    for (const r of racers) r.go();
    const results = await Promise.all(racers.map((r) => r.result));

    // Each racer tries 20 uploads of 100 bytes against a 1000-byte quota, and adds 20 events to one job.
    expect(results.reduce((sum, r) => sum + r.stored, 0)).toBe(10);
    expect(sqliteRows(database, "SELECT SUM(bytes) AS total FROM tuning_files WHERE tenant_id = 'race'")[0]!.total).toBe(1000);
    const seqs = results.flatMap((r) => r.seqs).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    // Only stored files have bytes: every refused upload removed its blob.
    expect((await readdir(join(blobsRoot, 'race'))).filter((f) => f.startsWith('file-'))).toHaveLength(10);
  }, 120_000);

  it('writes no row when the blob store fails', async () => {
    const notAFolder = join(dir, 'a-file');
    await writeFile(notAFolder, 'blobs cannot live under a file');
    const { store } = await openStore('broken-blobs', join(notAFolder, 'blobs'));
    const file = storedFile('open', 3);
    await expect(store.insertFile(file, new Uint8Array(3), 100)).rejects.toThrow(/ENOTDIR/);
    expect(await store.getFile('open', file.id)).toBeNull();
    expect(await store.listFiles('open', { limit: 10 })).toEqual([]);
    expect(await store.storedBytes('open')).toBe(0);
  });

  it('removes the blob when the database refuses the row', async () => {
    const { store, blobs } = await openStore('refused-row');
    const file = storedFile('open', 3, { purpose: 'not-a-purpose' as FilePurpose });
    await expect(store.insertFile(file, new Uint8Array(3), 100)).rejects.toThrow(/CHECK constraint/);
    expect(await blobs.get(`open/${file.id}`)).toBeNull();
    expect(await store.getFile('open', file.id)).toBeNull();
  });

  it('refuses an id it has stored, leaving the stored bytes alone', async () => {
    const { store } = await openStore('duplicate');
    const file = storedFile('open', 3);
    await store.insertFile(file, new Uint8Array([1, 2, 3]), 100);
    await expect(store.insertFile({ ...file, bytes: 1 }, new Uint8Array([9]), 100)).rejects.toThrow(/exists/);
    expect(await store.fileBytes('open', file.id)).toEqual(new Uint8Array([1, 2, 3]));
  });
});
