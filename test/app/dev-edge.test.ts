// `npm run dev:edge` for a new user: a fresh local state folder, no key, and a classification still answers 200.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../functions/node/shared-paths.js';

const freePort = () => new Promise<number>((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  });
});

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('npm run dev:edge on a fresh clone', () => {
  it('migrates the local D1, says it is open, and classifies without a key', async () => {
    const state = await mkdtemp(join(tmpdir(), 'edge-maas-dev-edge-'));
    cleanups.push(() => rm(state, { recursive: true, force: true }));
    const port = await freePort();
    const child = spawn('npm', ['run', 'dev:edge', '--', '--port', String(port), '--persist-to', state], {
      cwd: repoRoot, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    cleanups.push(async () => {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
      await exited;
    });
    let out = '';
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (/Ready on/.test(out)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`npm run dev:edge exited with ${code}: ${out.slice(-2_000)}`)));
    });
    expect(out).toMatch(/open mode: no API keys are required/);

    const res = await fetch(`http://127.0.0.1:${port}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: 'a wonderful , heartfelt film .' }) });
    expect(res.status).toBe(200);
    expect((await res.json()).results[0][0].label).toBe('POSITIVE');

    const { stdout } = await promisify(execFile)('npx', ['wrangler', 'd1', 'execute', 'DB', '--local', '--persist-to', state, '--json', '--command', 'SELECT name FROM d1_migrations ORDER BY name'], { cwd: repoRoot, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
    const applied = (JSON.parse(stdout) as { results: { name: string }[] }[])[0]!.results.map((r) => r.name);
    expect(applied).toEqual((await readdir(join(repoRoot, 'migrations'))).filter((f) => f.endsWith('.sql')).sort());
  }, 90_000);
});
