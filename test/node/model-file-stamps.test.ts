/**
 * Model files hashed once: a file that matched its registry sha256 is vouched for by its stamp at the next start
 * (a fresh ModelFileStamps over the same stamp file, as a new process has), and any change to it, even one that
 * keeps its size and puts its mtime back, is hashed again and refused. On a copy of a committed model folder.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelFileStamps } from '../../functions/node/model-file-stamps.js';
import { modelRef, Registry } from '../../functions/registry/registry.js';
import { verifyModelFiles } from '../../functions/registry/verify-files.js';
import { repoRoot } from '../paths.js';

let dir: string;
const folder = () => join(dir, 'model');
const stampFile = () => join(dir, 'data', 'verified-model-files.json');
const model = async () => Registry.parse(JSON.parse(await readFile(join(repoRoot, 'models', 'registry.json'), 'utf8'))).resolve()!; // the default, whichever version

/** A start's verification: a fresh stamp store over the stamp file, what it vouched for, then its stamps written. */
async function verifyAsAStart() {
  const stamps = new ModelFileStamps(stampFile());
  const { read, checks } = stamps.folder(folder());
  const vouched: string[] = [];
  const files = await verifyModelFiles(await model(), async (path) => {
    const bytes = await read(path);
    if (checks.known(path)) vouched.push(path);
    return bytes;
  }, checks);
  await stamps.flushed();
  return { files, vouched };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-maas-stamps-'));
  await cp(join(repoRoot, 'models', (await model()).folder!), folder(), { recursive: true });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('model file stamps', () => {
  it('hashes every file at the first start, and vouches for all of them, unchanged, at the next', async () => {
    const entry = await model();
    const first = await verifyAsAStart();
    expect(first.vouched).toEqual([]);
    const stored = JSON.parse(await readFile(stampFile(), 'utf8')) as Record<string, { sha256: string }>;
    for (const [path, sha] of Object.entries(entry.files)) expect(stored[join(folder(), path)]?.sha256).toBe(sha);
    const second = await verifyAsAStart();
    expect(second.vouched.sort()).toEqual(Object.keys(entry.files).sort());
    expect(second.files.get('config.json')).toEqual(first.files.get('config.json'));
  });

  it('refuses a file changed after its stamp, with its size kept and its mtime put back', async () => {
    await verifyAsAStart();
    const config = join(folder(), 'config.json');
    const reference = join(dir, 'mtime-reference');
    await writeFile(reference, '');
    execFileSync('touch', ['-r', config, reference]); // utimensat: the exact nanoseconds, which utimes() cannot set
    const before = await stat(config, { bigint: true });
    const original = await readFile(config, 'utf8');
    const spoiled = original.replace(/"(NEGATIVE|negative)"/, (m) => m.replace(/[a-zA-Z]/, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())));
    expect(spoiled).not.toBe(original);
    expect(spoiled.length).toBe(original.length);
    await writeFile(config, spoiled);
    execFileSync('touch', ['-r', reference, config]);
    const after = await stat(config, { bigint: true });
    expect([after.size, after.mtimeNs, after.ino]).toEqual([before.size, before.mtimeNs, before.ino]); // only ctime tells

    await expect(verifyAsAStart()).rejects.toThrow(new RegExp(`model ${modelRef(await model())}: config\\.json has sha256 [0-9a-f]{12}…, the registry says`));
  });

  it('hashes again when the stamp file is unreadable, and writes it anew', async () => {
    await verifyAsAStart();
    await writeFile(stampFile(), '{not json');
    expect((await verifyAsAStart()).vouched).toEqual([]);
    expect((await verifyAsAStart()).vouched.length).toBe(Object.keys((await model()).files).length);
  });
});
