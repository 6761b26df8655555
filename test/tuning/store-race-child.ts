// One racer of store-sqlite.test.ts, in a process of its own. Opens the shared SQLite file, says "ready", waits for
// a line on stdin (so that every racer starts at once), then tries 20 uploads of 100 bytes for tenant 'race'
// against a 1000-byte quota and adds 20 events to one job, and prints what it got as one line of JSON.
import { once } from 'node:events';
import { FolderBlobStore } from '../../functions/node/folder-blob-store.js';
import { migrationsDir } from '../../functions/node/billing-setup.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import { SqlTuningStore } from '../../functions/tuning/sql-tuning-store.js';
import { randomId, storedFile } from './store-records.js';

const [database, blobsRoot, name] = process.argv.slice(2) as [string, string, string];
const db = await openSqlite(database, migrationsDir);
const store = new SqlTuningStore(db, new FolderBlobStore(blobsRoot));
process.stdout.write('ready\n');
await once(process.stdin, 'data');

let stored = 0;
const seqs: number[] = [];
for (let i = 0; i < 20; i++) {
  if ((await store.insertFile(storedFile('race', 100), new Uint8Array(100), 1000)) === 'stored') stored++;
  const event = await store.addEvent({ id: randomId('ftevent-'), jobId: 'ftjob-race', createdAt: 1, level: 'info', type: 'message', message: `${name} ${i}`, data: null });
  seqs.push(event.seq);
}
db.close();
process.stdout.write(`${JSON.stringify({ stored, seqs })}\n`);
process.exit(0);
