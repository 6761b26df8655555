// `npm start` as a user runs it: functions/node/start.mjs with plain node (no tsx, so no TypeScript can load), on its
// defaults (onnxruntime-node, billing on an SQLite file with its migrations, the embedded generation server with
// stories260K from ../shared, fine-tuning): the bundle in dist/node/ must find every runtime asset from there. A build
// whose recorded sources no longer match (by content) is rebuilt before the server starts, and what killed builds
// left beside dist/node/ is removed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript (npm start's launcher), no declarations
import { contentHash, ensureBuilt, outDir, staleReason } from '../../functions/node/start.mjs';
import { repoRoot } from '../paths.js';

interface Started { url: string; output(): string; stop(): Promise<number | null> }

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'built-server-'));
  await ensureBuilt();
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

/** Spawns `node functions/node/start.mjs`; resolves once it listens, rejects with its output if it exits first. */
function startBuilt(env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, ['functions/node/start.mjs'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', USAGE_DB: join(dataDir, `usage-${Date.now()}.sqlite`), ORT_BACKEND: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return new Promise((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /listening on (http:\/\/[\d.]+:\d+)/.exec(output)?.[1];
      if (url) resolve({ url, output: () => output, stop: () => (child.kill('SIGTERM'), exited) });
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    void exited.then((code) => reject(new Error(`start.mjs exited with ${code} before listening: ${output}`)));
  });
}

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('npm start: the built server', () => {
  it('classifies, generates through its embedded generation server and names its engine, from dist/node/', async () => {
    const server = await startBuilt();
    try {
      // "listening" is printed only once a classification can be answered: the first request needs no retry.
      const res = await post(`${server.url}/v1/classify`, { input: ['a wonderful, heartfelt film', 'a dull, lifeless mess'] });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { results: { label: string }[][] };
      expect(body.results.map((r) => r[0]!.label)).toEqual(['POSITIVE', 'NEGATIVE']);
      const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string; engine: string | null }[] };
      expect(models.data.find((m) => m.id === 'sst2-bert@3')?.engine).toBe('onnxruntime-node');
      // stories260K loads on this first generation request (lazily), found under ../shared from dist/node/.
      const completion = await post(`${server.url}/v1/completions`, { model: 'stories260K', prompt: 'Once upon a time', max_tokens: 5, temperature: 0 });
      expect(completion.status).toBe(200);
      expect(((await completion.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(5);
      expect(server.output()).toMatch(/generation server http:\/\/127\.0\.0\.1:\d+/);
      expect(server.output()).toContain('open mode');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('says why a build is stale: a changed source, a changed recipe, no build at all', async () => {
    expect(staleReason()).toBeNull();
    const info = JSON.parse(await readFile(join(outDir, 'build-info.json'), 'utf8')) as { recipe: string; inputs: Record<string, string> };
    expect(Object.keys(info.inputs)).toEqual(expect.arrayContaining(['functions/node/server.ts', 'functions/node/start-server.ts', 'package-lock.json']));
    expect(info.inputs['functions/node/server.ts']).toBe(contentHash(join(repoRoot, 'functions/node/server.ts')));
    const copy = await mkdtemp(join(dataDir, 'info-'));
    const write = (changed: object) => writeFile(join(copy, 'build-info.json'), JSON.stringify({ ...info, ...changed }));
    await write({ inputs: { ...info.inputs, 'functions/node/local-app.ts': '0'.repeat(64) } });
    expect(staleReason(copy)).toBe('functions/node/local-app.ts changed');
    await write({ inputs: { 'functions/node/no-such-file.ts': '0'.repeat(64) } });
    expect(staleReason(copy)).toBe('functions/node/no-such-file.ts is gone');
    await write({ recipe: '{}' });
    expect(staleReason(copy)).toBe('the build recipe changed');
    expect(staleReason(join(copy, 'nothing'))).toMatch(/has no build$/);
  });

  it('judges a build by its sources\' content, not their size and mtime', async () => {
    const info = JSON.parse(await readFile(join(outDir, 'build-info.json'), 'utf8')) as { recipe: string };
    const root = await mkdtemp(join(dataDir, 'root-'));
    const build = join(root, 'dist');
    await mkdir(build);
    const source = join(root, 'source.ts');
    await writeFile(source, 'export const answer = 1;\n');
    await writeFile(join(build, 'build-info.json'), JSON.stringify({ recipe: info.recipe, inputs: { 'source.ts': contentHash(source) } }));
    expect(staleReason(build, root)).toBeNull();
    // Touched without a change (a checkout back and forth): still fresh, nothing to rebuild.
    const { atime, mtime } = await stat(source);
    await utimes(source, new Date(), new Date(Date.now() + 60_000));
    expect(staleReason(build, root)).toBeNull();
    // Changed to as many bytes, its old mtime put back (cp -p, rsync -t, tar): stale, which size and mtime missed.
    await writeFile(source, 'export const answer = 2;\n');
    await utimes(source, atime, mtime);
    expect(staleReason(build, root)).toBe('source.ts changed');
  });

  it('clears what a killed build left on a start that needs no build too (esbuild, its own process, may write after the kill)', async () => {
    expect(staleReason()).toBeNull();
    const pid = await new Promise<number>((done) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.once('exit', () => done(child.pid!));
    });
    const left = `${outDir}.building-${pid}`;
    await mkdir(left, { recursive: true });
    await writeFile(join(left, 'server.js'), '// half a build');
    try {
      expect(await ensureBuilt()).toBeNull();
      expect(existsSync(left)).toBe(false);
    } finally {
      await rm(left, { recursive: true, force: true });
    }
  });

  it('rebuilds a stale dist/node/ before it starts, removing the folders killed builds left (not a running one\'s)', async () => {
    const path = join(outDir, 'build-info.json');
    const info = JSON.parse(await readFile(path, 'utf8')) as { inputs: Record<string, string> };
    const real = info.inputs['functions/node/start-server.ts']!;
    // As if start-server.ts had changed since the build (the source itself is left alone).
    info.inputs['functions/node/start-server.ts'] = '0'.repeat(64);
    await writeFile(path, JSON.stringify(info));
    expect(staleReason()).toBe('functions/node/start-server.ts changed');
    // What builds killed mid-way leave (their process gone), and the folder of a build that still runs (this process).
    const gone = await Promise.all([1, 2].map(() => new Promise<number>((done) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.once('exit', () => done(child.pid!));
    })));
    const left = [`${outDir}.building-${gone[0]}`, `${outDir}.old-${gone[1]}`];
    const running = `${outDir}.building-${process.pid}`;
    for (const dir of [...left, running]) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'server.js'), '// half a build');
    }
    try {
      const server = await startBuilt({ EMBEDDED_GENERATION: 'off', FINE_TUNING: 'off' });
      try {
        expect(staleReason()).toBeNull();
        const rebuilt = JSON.parse(await readFile(path, 'utf8')) as { inputs: Record<string, string> };
        expect(rebuilt.inputs['functions/node/start-server.ts']).toBe(real);
        expect((await post(`${server.url}/v1/classify`, { input: 'a fine film' })).status).toBe(200);
        expect(left.filter((dir) => existsSync(dir))).toEqual([]);
        expect(existsSync(running)).toBe(true);
      } finally {
        expect(await server.stop()).toBe(0);
      }
    } finally {
      await Promise.all([...left, running].map((dir) => rm(dir, { recursive: true, force: true })));
    }
  });
});
