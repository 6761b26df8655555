/**
 * Fine-tuning's file bytes in S3 (the AWS deployment's BlobStore): one object per file under the bucket's prefix.
 * S3_ENDPOINT points it at an S3-compatible server (tests run s3rver on 127.0.0.1), with path-style addressing.
 */
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from '../tuning/tuning-store.js';

export function s3Client(endpoint = process.env.S3_ENDPOINT): S3Client {
  return new S3Client({ ...(endpoint ? { endpoint, forcePathStyle: true } : {}), maxAttempts: 4 });
}

export class S3BlobStore implements BlobStore {
  constructor(private readonly client: S3Client, private readonly bucket: string, private readonly prefix = '') {}

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: bytes, ContentLength: bytes.byteLength }));
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      const { Body } = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return Body ? await Body.transformToByteArray() : new Uint8Array(0);
    } catch (error) {
      if (error instanceof NoSuchKey || (error instanceof Error && error.name === 'NoSuchKey')) return null;
      throw error;
    }
  }

  /** Deleting an absent key succeeds, as S3 answers it. */
  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
  }
}
