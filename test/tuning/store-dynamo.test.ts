/**
 * The TuningStore contract on DynamoDB (dynalite) with file bytes in S3 (s3rver), through the official AWS SDK;
 * then what the contract does not show: a bucket prefix keeps the keys apart, and a file whose bytes S3 refuses
 * leaves neither an item nor counted bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../functions/lambda/s3-blob-store.js';
import { DynamoTuningStore } from '../../functions/tuning/dynamo/dynamo-tuning-store.js';
import { startLocalAwsTuning, type LocalAwsTuning } from './local-aws-tuning.js';
import { tuningStoreContract } from './store-contract.js';
import { storedFile } from './store-records.js';

let aws: LocalAwsTuning;
beforeAll(async () => {
  aws = await startLocalAwsTuning();
});
afterAll(async () => {
  await aws?.close();
});

tuningStoreContract('DynamoDB + S3', async () => {
  const blobs = new S3BlobStore(aws.s3, aws.bucket);
  return { store: new DynamoTuningStore(aws.dynamo.client, aws.table, blobs), blobs };
});

describe('DynamoDB + S3 beyond the contract', () => {
  it('keeps file bytes under the bucket prefix', async () => {
    const blobs = new S3BlobStore(aws.s3, aws.bucket, 'stage-a/');
    const store = new DynamoTuningStore(aws.dynamo.client, aws.table, blobs);
    const file = storedFile('prefixed', 3);
    expect(await store.insertFile(file, new Uint8Array([1, 2, 3]), 10)).toBe('stored');
    expect(await new S3BlobStore(aws.s3, aws.bucket).get(`stage-a/prefixed/${file.id}`)).toEqual(new Uint8Array([1, 2, 3]));
    expect(await new S3BlobStore(aws.s3, aws.bucket).get(`prefixed/${file.id}`)).toBeNull();
  });

  it('reads ids DynamoDB cannot key (empty, over 1,024 bytes) as absent', async () => {
    const store = new DynamoTuningStore(aws.dynamo.client, aws.table, new S3BlobStore(aws.s3, aws.bucket));
    for (const id of ['', 'x'.repeat(1025)]) {
      expect(await store.getJob('keys', id)).toBeNull();
      expect(await store.getModel('keys', id)).toBeNull();
      expect(await store.deleteModel('keys', id)).toBe(false);
      expect(await store.updateJob(id, ['queued'], { status: 'running' })).toBe(false);
      expect(await store.listJobs('keys', { after: id, limit: 5 })).toEqual([]);
    }
  });

  it('stores nothing and counts nothing when S3 refuses the bytes', async () => {
    const store = new DynamoTuningStore(aws.dynamo.client, aws.table, new S3BlobStore(aws.s3, 'no-such-bucket'));
    const file = storedFile('refused', 5);
    await expect(store.insertFile(file, new Uint8Array(5), 100)).rejects.toThrow();
    expect(await store.getFile('refused', file.id)).toBeNull();
    expect(await store.storedBytes('refused')).toBe(0);
  });
});
