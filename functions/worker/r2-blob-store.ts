/** BlobStore over an R2 bucket binding (wrangler.toml's TUNING_BUCKET): training files' bytes at the edge. */
import type { BlobStore } from '../tuning/tuning-store.js';

/** What this store uses of workerd's R2Bucket (the project has no @cloudflare/workers-types). */
export interface R2BucketBinding {
  put(key: string, value: ArrayBuffer | ArrayBufferView): Promise<unknown>;
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
  /** Deleting an absent key succeeds. */
  delete(key: string): Promise<void>;
}

export class R2BlobStore implements BlobStore {
  constructor(private readonly bucket: R2BucketBinding, private readonly prefix = '') {}

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.bucket.put(this.prefix + key, bytes);
  }

  async get(key: string): Promise<Uint8Array | null> {
    const object = await this.bucket.get(this.prefix + key);
    return object ? new Uint8Array(await object.arrayBuffer()) : null;
  }

  async delete(key: string): Promise<void> {
    await this.bucket.delete(this.prefix + key);
  }
}
