// FolderBlobStore on a real temporary folder: exact bytes, whole-file replacement, tolerant deletes, and keys that
// cannot leave the folder.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderBlobStore } from '../../functions/node/folder-blob-store.js';

let dir: string;
let blobs: FolderBlobStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'folder-blobs-'));
  blobs = new FolderBlobStore(join(dir, 'store'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FolderBlobStore', () => {
  it('returns the bytes it was given, as a plain Uint8Array, under <root>/<key>', async () => {
    const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256);
    await blobs.put('tenant-a/file-1', bytes);
    const read = await blobs.get('tenant-a/file-1');
    expect(read).toEqual(bytes);
    expect(Object.getPrototypeOf(read)).toBe(Uint8Array.prototype);
    expect((await stat(join(dir, 'store', 'tenant-a', 'file-1'))).size).toBe(70_000);
  });

  it('answers null for a key it does not hold and deletes absent keys without complaint', async () => {
    expect(await blobs.get('tenant-a/never-written')).toBeNull();
    await blobs.delete('tenant-a/never-written');
    await blobs.delete('no-such-folder/never-written');
    await blobs.put('tenant-b/gone', new Uint8Array([1]));
    await blobs.delete('tenant-b/gone');
    expect(await blobs.get('tenant-b/gone')).toBeNull();
  });

  it('replaces a blob whole, even under concurrent writes, and leaves no temporary files', async () => {
    const versions = Array.from({ length: 8 }, (_, v) => new Uint8Array(50_000).fill(v + 1));
    await Promise.all(versions.map((bytes) => blobs.put('tenant-c/file', bytes)));
    const read = (await blobs.get('tenant-c/file'))!;
    expect(read.byteLength).toBe(50_000);
    expect(new Set(read).size).toBe(1); // one version's bytes, not a mix
    expect(await readdir(join(dir, 'store', 'tenant-c'))).toEqual(['file']);
  });

  it('refuses keys that are not relative paths of plain names', async () => {
    for (const key of ['../outside', 'a/../../outside', '/etc/passwd', 'a//b', '', 'a/', '.hidden', 'a/.tmp', 'a\\..\\b', 'a/b\0c']) {
      await expect(blobs.put(key, new Uint8Array([1])), key).rejects.toThrow(/blob key/);
      await expect(blobs.get(key), key).rejects.toThrow(/blob key/);
      await expect(blobs.delete(key), key).rejects.toThrow(/blob key/);
    }
    expect((await readdir(dir)).sort()).toEqual(['store']);
  });
});
