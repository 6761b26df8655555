/**
 * npm start's freshness check reads only the sources whose stamp (inode, size, mtime, ctime) changed since the
 * build: the stamps are written once a check has hashed a source and found it equal, and a source rewritten to as
 * many bytes with its exact mtime put back (touch -r: nanoseconds) is still found changed, by its ctime.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript (npm start's launcher), no declarations
import { build, contentHash, outDir, staleReason } from '../../functions/node/start.mjs';

let root: string;
afterEach(() => rm(root, { recursive: true, force: true }));

it('stamps the sources once hashed, and a same-size rewrite with its mtime put back is still stale', async () => {
  if (staleReason()) await build();
  const { recipe } = JSON.parse(await readFile(join(outDir, 'build-info.json'), 'utf8')) as { recipe: string };
  root = await mkdtemp(join(tmpdir(), 'edge-maas-build-stamps-'));
  const dist = join(root, 'dist');
  await mkdir(dist);
  const source = join(root, 'source.ts');
  await writeFile(source, 'export const answer = 1;\n');
  await writeFile(join(dist, 'build-info.json'), JSON.stringify({ recipe, inputs: { 'source.ts': contentHash(source) } }));
  expect(staleReason(dist, root)).toBeNull();
  const { stamps } = JSON.parse(await readFile(join(dist, 'build-info.json'), 'utf8')) as { stamps: Record<string, string> };
  expect(stamps['source.ts']).toMatch(new RegExp(`:${contentHash(source)}$`));
  expect(staleReason(dist, root)).toBeNull();

  const reference = join(root, 'reference');
  await writeFile(reference, '');
  execFileSync('touch', ['-r', source, reference]);
  const before = await stat(source, { bigint: true });
  await writeFile(source, 'export const answer = 2;\n');
  execFileSync('touch', ['-r', reference, source]);
  const after = await stat(source, { bigint: true });
  expect([after.ino, after.size, after.mtimeNs]).toEqual([before.ino, before.size, before.mtimeNs]);
  expect(staleReason(dist, root)).toBe('source.ts changed');
});
