/** The Worker: bundle size from wrangler's dry run, and the first request to a fresh `npm run dev:edge` (workerd). */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { repoRoot } from '../../functions/node/shared-paths.js';
import { devEdgeReady, startDevEdge, stopDevEdge } from '../common/dev-edge.js';

const wranglerEnv = { ...process.env, WRANGLER_SEND_METRICS: 'false' };

export async function workerBundleSize(): Promise<{ rawMiB: number; gzipMiB: number }> {
  const outdir = await mkdtemp(join(tmpdir(), 'edge-maas-bench-'));
  try {
    await promisify(execFile)('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outdir], { cwd: repoRoot, env: wranglerEnv });
    let raw = 0;
    let gzip = 0;
    for (const file of (await readdir(outdir)).filter((f) => !f.endsWith('.map') && f !== 'README.md')) {
      const bytes = await readFile(join(outdir, file));
      raw += bytes.length;
      gzip += gzipSync(bytes).length;
    }
    return { rawMiB: raw / 2 ** 20, gzipMiB: gzip / 2 ** 20 };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}

const freePort = () => new Promise<number>((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  });
});

/**
 * Time of the first POST /v1/classify after `npm run dev:edge`'s launcher says it is ready (models load on that
 * request), then the second; in open mode, on a fresh local state folder.
 */
export async function workerdFirstRequest(text: string): Promise<{ firstMs: number; secondMs: number }> {
  const port = await freePort();
  const state = await mkdtemp(join(tmpdir(), 'edge-maas-bench-state-'));
  const child = await startDevEdge({ port, persistTo: state });
  try {
    await devEdgeReady(child);
    const classify = async () => {
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: text }) });
      const body = await res.text();
      // The Worker's wrangler.toml says keys mode; startDevEdge runs it open (--var AUTH_MODE:open), as dev:edge does.
      if (!res.ok) throw new Error(`workerd answered ${res.status} to POST /v1/classify: ${body.slice(0, 300)}`);
      return performance.now() - t0;
    };
    const firstMs = await classify();
    return { firstMs, secondMs: await classify() };
  } finally {
    await stopDevEdge(child);
    await rm(state, { recursive: true, force: true });
  }
}
