/**
 * BlobStore on a local folder: a key's bytes at <root>/<key>. A write goes to a temporary file beside the target and
 * is renamed over it, so a reader (or a crash) sees the old bytes or the new ones, never part of them.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { BlobStore } from '../tuning/tuning-store.js';

// No empty, '.', '..' or hidden segments (temporary files start with '.'), no separators of another system.
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/;

export class FolderBlobStore implements BlobStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temporary = join(dirname(path), `.${randomBytes(8).toString('hex')}.tmp`);
    try {
      const file = await open(temporary, 'wx');
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      const buffer = await readFile(this.pathOf(key));
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  private pathOf(key: string): string {
    const segments = key.split('/');
    if (!segments.every((s) => SEGMENT.test(s))) throw new Error(`blob key ${JSON.stringify(key.slice(0, 100))} is not a relative path of plain names`);
    const path = join(this.root, ...segments);
    // The segment check already rules escapes out; this keeps it so if that check ever loosens.
    if (!path.startsWith(this.root + sep)) throw new Error(`blob key ${JSON.stringify(key.slice(0, 100))} leaves the store's folder`);
    return path;
  }
}
