/**
 * The Worker's warm classify per request inside workerd (issue 21 item 3), against a GET /healthz baseline on the
 * same server: `wrangler dev` on a fresh local state folder, open mode (as `npm run dev:edge`) or keys mode (as
 * deployed: a tenant and a key made through the admin API). To find where the time goes, two more servers:
 * 'no-billing', the same Worker without its D1 binding (worker-no-billing.toml: no metering, no key checks), and
 * 'raw', a bare Worker that runs one session.run on ids the bench tokenised (raw-worker.toml; baseline GET /noop). Requests go one at a time over one keep-alive
 * connection (node:http: fetch alone costs ~0.5 ms a request), in blocks that alternate healthz and classify so
 * that load hits both alike. Per request: wall time; for classify, the Server-Timing inference the Worker reports.
 * Per block: the CPU all workerd processes below wrangler dev spent (/proc: the isolate, Miniflare's D1 and
 * objects, the dev proxy), divided by the block's requests; on a loaded machine that is the figure to read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../functions/node/shared-paths.js';
import { devEdgeReady, migrateLocalD1, stopDevEdge } from '../common/dev-edge.js';
import { percentile } from '../common/stats.js';
import { cpuMsOf, freePort, workerdPids } from '../common/workerd-cpu.js';

export type WorkerdTarget = 'open' | 'keys' | 'no-billing' | 'raw';

export interface WorkerdPerRequest {
  mode: WorkerdTarget;
  requests: number;
  healthz: { p50: number; p99: number; cpuMs: number };
  classify: { p50: number; p99: number; cpuMs: number; inferenceP50: number; inferenceP99: number };
}

const ADMIN_TOKEN = 'bench-edge-engine-admin';

interface Answer { status: number; ms: number; serverTiming: string; body: string }

function call(agent: Agent, port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: { ...headers, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, serverTiming: String(res.headers['server-timing'] ?? ''), body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const inferenceOf = (serverTiming: string) => Number(/inference;dur=([\d.]+)/.exec(serverTiming)?.[1] ?? Number.NaN);

const CONFIGS: Record<WorkerdTarget, { config: string[]; vars: string[]; d1: boolean }> = {
  open: { config: [], vars: ['--var', 'AUTH_MODE:open'], d1: true },
  keys: { config: [], vars: ['--var', `ADMIN_TOKEN:${ADMIN_TOKEN}`], d1: true },
  'no-billing': { config: ['--config', 'bench/edge-engine/worker-no-billing.toml'], vars: [], d1: false },
  raw: { config: ['--config', 'bench/edge-engine/raw-worker.toml'], vars: [], d1: false },
};

/** `idsOf`: the token ids of a sentence, for the 'raw' Worker. */
export async function workerdPerRequest(mode: WorkerdTarget, sentences: string[], requests: number, idsOf?: (text: string) => number[], block = 50): Promise<WorkerdPerRequest> {
  const state = await mkdtemp(join(tmpdir(), 'edge-engine-workerd-'));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let child: ChildProcess | undefined;
  try {
    const { config, vars, d1 } = CONFIGS[mode];
    if (d1) await migrateLocalD1(state);
    const port = await freePort();
    child = spawn('npx', ['wrangler', 'dev', ...config, '--ip', '127.0.0.1', '--port', String(port), '--persist-to', state, ...vars],
      { cwd: repoRoot, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4_000); });
    await devEdgeReady(child).catch((error: Error) => { throw new Error(`${error.message}\n${stderr}`); });

    const headers: Record<string, string> = {};
    if (mode === 'keys') {
      const admin = async (path: string, payload: unknown) => {
        const res = await call(agent, port, 'POST', path, { authorization: `Bearer ${ADMIN_TOKEN}` }, JSON.stringify(payload));
        if (res.status !== 201) throw new Error(`POST ${path} answered ${res.status}: ${res.body.slice(0, 300)}`);
        return JSON.parse(res.body) as { key: string };
      };
      await admin('/admin/tenants', { id: 'bench_edge_engine' });
      headers.authorization = `Bearer ${(await admin('/admin/keys', { tenant: 'bench_edge_engine', rpm: 1_000_000 })).key}`;
    }
    if (mode === 'raw' && !idsOf) throw new Error('the raw Worker needs idsOf');
    const text = (i: number) => sentences[i % sentences.length]!;
    const [path, baseline] = mode === 'raw' ? ['/run', '/noop'] : ['/v1/classify', '/healthz'];
    const classify = async (i: number) => {
      const body = mode === 'raw' ? { ids: idsOf!(text(i)) } : { input: text(i), cache: false };
      const res = await call(agent, port, 'POST', path, headers, JSON.stringify(body));
      if (res.status !== 200) throw new Error(`workerd answered ${res.status} to POST ${path} (${mode}): ${res.body.slice(0, 300)}`);
      return res;
    };
    const healthz = async () => {
      const res = await call(agent, port, 'GET', baseline, {});
      if (res.status !== 200) throw new Error(`workerd answered ${res.status} to GET ${baseline}`);
      return res;
    };
    // Warm: the first classify loads the models; then enough of both for the wasm code to tier up.
    for (let i = 0; i < 200; i++) {
      await classify(i);
      await healthz();
    }
    const pids = await workerdPids(child.pid!);
    if (pids.length === 0) throw new Error('found no workerd process below wrangler dev');
    const wall = { healthz: [] as number[], classify: [] as number[] };
    const inference: number[] = [];
    const cpu = { healthz: 0, classify: 0 };
    for (let start = 0; start < requests; start += block) {
      for (const kind of start % (2 * block) === 0 ? (['healthz', 'classify'] as const) : (['classify', 'healthz'] as const)) {
        const cpu0 = await cpuMsOf(pids);
        for (let i = start; i < Math.min(start + block, requests); i++) {
          if (kind === 'healthz') wall.healthz.push((await healthz()).ms);
          else {
            const res = await classify(i);
            wall.classify.push(res.ms);
            inference.push(inferenceOf(res.serverTiming));
          }
        }
        cpu[kind] += (await cpuMsOf(pids)) - cpu0;
      }
    }
    if (String(await workerdPids(child.pid!)) !== String(pids)) throw new Error('the workerd processes changed during the measurement (wrangler dev reloaded?)');
    return {
      mode,
      requests,
      healthz: { p50: percentile(wall.healthz, 50), p99: percentile(wall.healthz, 99), cpuMs: cpu.healthz / requests },
      classify: { p50: percentile(wall.classify, 50), p99: percentile(wall.classify, 99), cpuMs: cpu.classify / requests, inferenceP50: percentile(inference, 50), inferenceP99: percentile(inference, 99) },
    };
  } finally {
    agent.destroy();
    if (child) await stopDevEdge(child);
    await rm(state, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('workerd.ts')) {
  const { devSentences } = await import('../classify/sentences.js');
  const { sentenceIds } = await import('./sentence-ids.js');
  const sentences = await devSentences(872);
  const idsOf = await sentenceIds();
  for (const mode of (process.env.WORKERD_MODES ?? 'open,keys,no-billing,raw').split(',') as WorkerdTarget[]) {
    console.log(JSON.stringify(await workerdPerRequest(mode, sentences, Number(process.env.WORKERD_REQUESTS ?? 400), idsOf)));
  }
}
