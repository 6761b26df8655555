/** Checks that a registry entry's files exist and match their sha256, with Web Crypto (any runtime). */
import { modelRef, RegistryError, type ModelEntry } from './registry.js';

export type FileReader = (path: string) => Promise<Uint8Array | null>;

/**
 * What vouches for files hashed before, so that a start need not hash them again (Node: model-file-stamps.ts, a
 * stamp of each file's inode, size, mtime and ctime when it was hashed). Paths are the reader's.
 */
export interface FileChecks {
  /** The sha256 the file had when it was hashed, if it is unchanged since (as the reader last read it); else undefined. */
  known(path: string): string | undefined;
  /** The file, as the reader last read it, has this sha256. */
  remember(path: string, sha256: string): void;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // Any Uint8Array digests at run time; the cast only narrows TypeScript's buffer type (no copy).
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Reads every listed file once and returns them by path; throws on the first missing or altered file. With checks,
 * a file they vouch for is not hashed again, and one hashed here is remembered once it matches.
 */
export async function verifyModelFiles(entry: ModelEntry, read: FileReader, checks?: FileChecks): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const [path, expected] of Object.entries(entry.files)) {
    const bytes = await read(path);
    if (!bytes) throw new RegistryError(`model ${modelRef(entry)}: file ${path} is missing`);
    if (checks?.known(path) !== expected) {
      const actual = await sha256Hex(bytes);
      if (actual !== expected) {
        throw new RegistryError(`model ${modelRef(entry)}: ${path} has sha256 ${actual.slice(0, 12)}…, the registry says ${expected.slice(0, 12)}…`);
      }
      checks?.remember(path, actual);
    }
    files.set(path, bytes);
  }
  return files;
}
