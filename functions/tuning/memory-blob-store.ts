/** File bytes kept in memory: for a deployment whose database is in memory too (SQLite ":memory:"), so both go together. */
import type { BlobStore } from './tuning-store.js';

export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Uint8Array>();

  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.blobs.set(key, bytes.slice());
  }

  async get(key: string): Promise<Uint8Array | null> {
    return this.blobs.get(key)?.slice() ?? null;
  }

  async delete(key: string): Promise<void> {
    this.blobs.delete(key);
  }
}
