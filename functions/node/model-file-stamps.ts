/**
 * Model files sha256-checked once, not at every start: hashing the 25 MB of models/ took the cold start ~20 ms of
 * main thread (Web Crypto copies its input) and more on the thread pool. After a file matches its registry sha256,
 * a stamp of it is kept in a JSON file the server owns (default .data/verified-model-files.json; MODEL_FILE_STAMPS
 * names another, "off" hashes every file at every start): its absolute path, device, inode, size, mtime and ctime
 * (nanoseconds), with the sha256 it had. A later read whose file has the same stamp is taken as those bytes; any
 * other is hashed again, so a changed file is still refused.
 *
 * What it trusts: that a file's content does not change while its inode, size, mtime and ctime stay the same. Any
 * write changes ctime, which no user can set back (touch, cp -p, tar, rsync only set mtime), and the stamp is taken
 * from the open file before and after reading it (a file changed while it is read is hashed every time). It also
 * trusts whoever can write the stamp file, as the registry file itself is trusted.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CheckedFiles } from '../engine/loading/load-edge-engines.js';

interface Stamp {
  /** dev:ino:size:mtimeNs:ctimeNs of the file when it was hashed. */
  stamp: string;
  sha256: string;
}

const stampOf = (s: BigIntStats) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;

export class ModelFileStamps {
  private readonly stamps = new Map<string, Stamp>();
  private readonly added = new Map<string, Stamp>();
  private readonly ready: Promise<void>;
  /** The saves, one after another (two at once could each write the file without the other's stamps). */
  private saves: Promise<void> = Promise.resolve();
  private saveQueued = false;

  constructor(readonly file: string) {
    this.ready = this.readFile().then((stored) => {
      for (const [path, stamp] of stored) this.stamps.set(path, stamp);
    });
  }

  private async readFile(): Promise<Map<string, Stamp>> {
    try {
      const stored = JSON.parse(await readFile(this.file, 'utf8')) as Record<string, Stamp>;
      return new Map(Object.entries(stored).filter(([, s]) => typeof s?.stamp === 'string' && typeof s.sha256 === 'string'));
    } catch {
      return new Map(); // none yet, or unreadable: every file is hashed and the file written anew
    }
  }

  /**
   * A folder's files read with their stamps, and the checks verifyModelFiles asks: a file's sha256 is known when its
   * stamp now is the one kept when it was hashed.
   */
  folder(folder: string): CheckedFiles {
    const lastRead = new Map<string, string | null>(); // path → its stamp at the last read; null: it changed while read
    return {
      read: async (path) => {
        let handle;
        try {
          handle = await open(join(folder, path), 'r');
        } catch {
          return null;
        }
        try {
          const before = stampOf(await handle.stat({ bigint: true }));
          const bytes = await handle.readFile();
          const after = stampOf(await handle.stat({ bigint: true }));
          lastRead.set(path, before === after ? before : null);
          await this.ready;
          return bytes;
        } finally {
          await handle.close();
        }
      },
      checks: {
        known: (path) => {
          const now = lastRead.get(path);
          const kept = now ? this.stamps.get(join(folder, path)) : undefined;
          return kept?.stamp === now ? kept?.sha256 : undefined;
        },
        remember: (path, sha256) => {
          const now = lastRead.get(path);
          if (!now) return;
          const stamp = { stamp: now, sha256 };
          this.stamps.set(join(folder, path), stamp);
          this.added.set(join(folder, path), stamp);
          if (this.saveQueued) return;
          this.saveQueued = true;
          this.saves = this.saves.then(() => new Promise((resolve) => setTimeout(resolve, 0))).then(() => this.save());
        },
      },
    };
  }

  /** Resolves once the stamps remembered so far are written (or failed to be: a read-only disk just hashes again). */
  async flushed(): Promise<void> {
    for (let last = this.saves; ; last = this.saves) {
      await last;
      if (last === this.saves) return;
    }
  }

  /** Merges this process's stamps into the file (another server may have written it), drops files that are gone. */
  private async save(): Promise<void> {
    this.saveQueued = false;
    const merged = await this.readFile();
    for (const [path, stamp] of this.added) merged.set(path, stamp);
    this.added.clear();
    for (const path of merged.keys()) if (!existsSync(path)) merged.delete(path);
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      await mkdir(dirname(this.file), { recursive: true });
      await writeFile(temp, JSON.stringify(Object.fromEntries(merged)));
      await rename(temp, this.file);
    } catch {
      // A cache: without it, the next start hashes again.
    }
  }
}

let shared: ModelFileStamps | null | undefined;

/** The process's stamps (MODEL_FILE_STAMPS, default <dataDir>/verified-model-files.json), or null when "off". */
export function modelFileStamps(dataDir: string): ModelFileStamps | null {
  if (shared !== undefined) return shared;
  const setting = process.env.MODEL_FILE_STAMPS;
  shared = setting === 'off' ? null : new ModelFileStamps(setting || join(dataDir, 'verified-model-files.json'));
  return shared;
}
