// The TuningStore contract inside workerd: the SQL store on the D1 database of wrangler.toml (migrations/ applied by
// apply-migrations.ts, as `wrangler d1 migrations apply` would) with file bytes in its TUNING_BUCKET R2 binding.
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { SqlTuningStore } from '../../functions/tuning/sql-tuning-store.js';
import { d1Database, type D1Database } from '../../functions/worker/d1-database.js';
import { R2BlobStore, type R2BucketBinding } from '../../functions/worker/r2-blob-store.js';
import { tuningStoreContract } from '../tuning/store-contract.js';
import { storedFile } from '../tuning/store-records.js';

const bindings = env as { DB: D1Database; TUNING_BUCKET: R2BucketBinding };

tuningStoreContract('D1 + R2 in workerd', async () => {
  const blobs = new R2BlobStore(bindings.TUNING_BUCKET);
  return { store: new SqlTuningStore(d1Database(bindings.DB), blobs), blobs };
});

describe('the tuning store on D1 + R2', () => {
  it('keeps a file\'s bytes in the bucket at <tenant>/<file id>, and removes them with the file', async () => {
    const store = new SqlTuningStore(d1Database(bindings.DB), new R2BlobStore(bindings.TUNING_BUCKET));
    const bytes = new TextEncoder().encode('{"text":"fine","label":"pos"}\n');
    const file = storedFile('edge_tuning', bytes.byteLength);
    expect(await store.insertFile(file, bytes, 1_000)).toBe('stored');
    const object = await bindings.TUNING_BUCKET.get(`edge_tuning/${file.id}`);
    expect(new Uint8Array(await object!.arrayBuffer())).toEqual(bytes);
    expect(await store.deleteFile('edge_tuning', file.id)).toBe(true);
    expect(await bindings.TUNING_BUCKET.get(`edge_tuning/${file.id}`)).toBeNull();
  });
});
