/**
 * Where the Worker's CPU goes per classification (issue 16): `node --experimental-websocket --import tsx
 * bench/cost/edge/profile-cpu.ts` starts the counting Worker in wrangler dev (keys mode, as the cost model does),
 * sends PROFILE_REQUESTS (default 100) one-text classifications under V8's sampling profiler through workerd's
 * inspector, and prints the self time by function (and by file) per request: what is ours, the engine's, Hono's.
 * The profile covers the Worker's isolate (the entry, billing, the engine); Miniflare's D1 and the proxy in front
 * of the Worker run elsewhere in workerd, which /proc's CPU (measure-edge.ts) counts and this does not.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../../functions/node/shared-paths.js';
import { devEdgeReady, migrateLocalD1, stopDevEdge } from '../../common/dev-edge.js';
import { ONE_TEXT } from '../requests.js';
import { isolateProfiler } from './isolate-profiler.js';

const requests = Number(process.env.PROFILE_REQUESTS ?? 100);
const port = 20_000 + Math.floor(Math.random() * 20_000);
const inspectorPort = port + 1;
const ADMIN_TOKEN = 'profile-admin';

const state = await mkdtemp(join(tmpdir(), 'edge-maas-profile-'));
await migrateLocalD1(state);
const child = spawn('npx', ['wrangler', 'dev', 'bench/cost/edge/counting-worker.ts', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort),
  '--persist-to', state, '--var', `ADMIN_TOKEN:${ADMIN_TOKEN}`], { cwd: repoRoot, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
try {
  await devEdgeReady(child);
  const base = `http://127.0.0.1:${port}`;
  const admin = async (path: string, body: unknown) => (await (await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as { key: string };
  await admin('/admin/tenants', { id: 'profile' });
  const { key } = await admin('/admin/keys', { tenant: 'profile', rpm: 1_000_000 });
  const classify = async () => {
    const res = await fetch(`${base}/v1/classify`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ input: ONE_TEXT }) });
    if (res.status !== 200) throw new Error(`${res.status}: ${await res.text()}`);
  };
  for (let i = 0; i < 5; i++) await classify(); // models loaded, caches warm
  const profiler = await isolateProfiler(inspectorPort);
  await profiler.start();
  for (let i = 0; i < requests; i++) await classify();
  await new Promise((r) => setTimeout(r, 500)); // the records' waitUntil work
  const { busyMs: busy, byFile, byFunction } = await profiler.stop();
  profiler.close();
  const top = (map: Map<string, number>, n: number) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, ms]) => `${(ms / requests).toFixed(3).padStart(8)} ms  ${name}`).join('\n');
  console.log(`${requests} one-text classifications, keys mode: ${(busy / requests).toFixed(2)} ms of the Worker isolate's CPU per request (samples, each at most one sampling period; idle excluded, workerd's C++ \'(program)\' included)`);
  console.log(`\nby file:\n${top(byFile, 15)}\n\nby function:\n${top(byFunction, 30)}`);
} finally {
  await stopDevEdge(child);
  await rm(state, { recursive: true, force: true });
}
process.exit(0);
