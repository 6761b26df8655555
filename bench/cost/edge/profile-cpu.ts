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

interface Socket { onopen: (() => void) | null; onerror: ((e: unknown) => void) | null; onmessage: ((e: { data: string }) => void) | null; send(d: string): void; close(): void }
const WS = (globalThis as unknown as { WebSocket?: new (url: string, init: { headers: Record<string, string> }) => Socket }).WebSocket;

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const requests = Number(process.env.PROFILE_REQUESTS ?? 100);
const port = 20_000 + Math.floor(Math.random() * 20_000);
const inspectorPort = port + 1;
const ADMIN_TOKEN = 'profile-admin';

async function devtools() {
  if (!WS) throw new Error('run with node --experimental-websocket');
  const ws = new WS(`ws://127.0.0.1:${inspectorPort}/ws`, { headers: { origin: `http://127.0.0.1:${inspectorPort}` } });
  let id = 0;
  const pending = new Map<number, (r: unknown) => void>();
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data) as { id?: number; result?: unknown };
    if (m.id !== undefined) pending.get(m.id)?.(m.result);
  };
  await new Promise<void>((ok, fail) => { ws.onopen = () => ok(); ws.onerror = () => fail(new Error('no inspector')); });
  const send = (method: string, params: object = {}) => new Promise<unknown>((ok) => { const n = ++id; pending.set(n, ok); ws.send(JSON.stringify({ id: n, method, params })); });
  return { send, close: () => ws.close() };
}

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
  const tools = await devtools();
  await tools.send('Profiler.enable');
  await tools.send('Profiler.setSamplingInterval', { interval: 100 });
  await tools.send('Profiler.start');
  for (let i = 0; i < requests; i++) await classify();
  await new Promise((r) => setTimeout(r, 500)); // the records' waitUntil work
  const { profile } = (await tools.send('Profiler.stop')) as { profile: Profile };
  tools.close();
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((nodeId, i) => self.set(nodeId, (self.get(nodeId) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let busy = 0;
  for (const [nodeId, ms] of self) {
    const { functionName, url, lineNumber } = byNode.get(nodeId)!.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    busy += ms;
    const file = url.replace(/^.*\/(node_modules\/[^/]+(?:\/[^/]+)?|functions\/[^?]+|bench\/[^?]+)/, '$1') || '(native)';
    byFunction.set(`${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`, (byFunction.get(`${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`) ?? 0) + ms);
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
  }
  const top = (map: Map<string, number>, n: number) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, ms]) => `${(ms / requests).toFixed(3).padStart(8)} ms  ${name}`).join('\n');
  console.log(`${requests} one-text classifications, keys mode: ${(busy / requests).toFixed(2)} ms of the Worker isolate's CPU per request (samples, idle excluded)`);
  console.log(`\nby file:\n${top(byFile, 15)}\n\nby function:\n${top(byFunction, 30)}`);
} finally {
  await stopDevEdge(child);
  await rm(state, { recursive: true, force: true });
}
process.exit(0);
