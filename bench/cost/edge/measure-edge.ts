/**
 * The edge side of the cost model: the real Worker in workerd (`wrangler dev` on the counting entry, with Miniflare's
 * D1, Durable Objects and R2 in a fresh state folder, keys mode as deployed), a real generation server for streams,
 * and per request type: the counts of counting-worker.ts, the CPU time the workerd process spent (from /proc) and
 * the Worker isolate's own (isolate-profiler.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../../functions/node/shared-paths.js';
import { startGenerationServer } from '../../../functions/node/start-generation-server.js';
import { devEdgeReady, migrateLocalD1, stopDevEdge } from '../../common/dev-edge.js';
import { cpuMsOf, freePort, workerdPids } from '../../common/workerd-cpu.js';
import { FLUSH_MS } from '../../../functions/worker/key-usage-meter.js';
import { BAD_KEY, type CostRequest, type RequestKind } from '../requests.js';
import type { counts as EdgeCountsValue } from './edge-counters.js';
import { isolateProfiler, type IsolateProfiler } from './isolate-profiler.js';

export type EdgeCounts = typeof EdgeCountsValue;

export interface EdgeMeasurement {
  kind: RequestKind;
  requests: number;
  /** Totals over `requests` requests (steady state: after warm-up requests of the same kind). */
  counts: EdgeCounts;
  /** CPU the workerd process spent (user + system) over those requests; it also runs Miniflare's D1 and objects. */
  cpuMs: number;
  /** The Worker isolate's own CPU over those requests (V8 samples: isolate-profiler.ts), the objects' JavaScript included. */
  isolateCpuMs: number;
  /** Of which JavaScript (and WebAssembly), without workerd's C++ APIs. */
  isolateJsMs: number;
  statuses: number[];
}

const ADMIN_TOKEN = 'bench-cost-admin';
const wranglerEnv = { ...process.env, WRANGLER_SEND_METRICS: 'false' };

export interface EdgeOptions {
  /** Requests of each kind that are counted, after `warmup` that are not. */
  requests: number;
  warmup: number;
}

export async function measureEdge(requests: CostRequest[], options: EdgeOptions): Promise<EdgeMeasurement[]> {
  const state = await mkdtemp(join(tmpdir(), 'edge-maas-cost-'));
  const generation = await startGenerationServer({ port: 0 });
  let child: ChildProcess | undefined;
  try {
    await migrateLocalD1(state);
    const port = await freePort();
    const inspectorPort = await freePort();
    child = spawn('npx', ['wrangler', 'dev', 'bench/cost/edge/counting-worker.ts', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort), '--persist-to', state,
      '--var', `ADMIN_TOKEN:${ADMIN_TOKEN}`, '--var', `GENERATION_UPSTREAM_URL:${generation.url}`], { cwd: repoRoot, env: wranglerEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4_000); });
    await devEdgeReady(child).catch((error: Error) => { throw new Error(`${error.message}\n${stderr}`); });
    const base = `http://127.0.0.1:${port}`;

    const call = async (method: string, path: string, body?: string, key?: string | null, admin = false) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (admin) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
      else if (key) headers.authorization = `Bearer ${key}`;
      const res = await fetch(`${base}${path}`, { method, headers, body });
      return { status: res.status, text: await res.text() };
    };
    const admin = async (path: string, body: unknown) => {
      const res = await call('POST', path, JSON.stringify(body), null, true);
      if (res.status !== 201) throw new Error(`POST ${path} answered ${res.status}: ${res.text.slice(0, 300)}`);
      return JSON.parse(res.text) as { key: string };
    };
    await admin('/admin/tenants', { id: 'bench_cost' });
    const keys = { good: (await admin('/admin/keys', { tenant: 'bench_cost', rpm: 1_000_000 })).key, limited: (await admin('/admin/keys', { tenant: 'bench_cost', rpm: 1 })).key, bad: BAD_KEY };

    const readCounts = async () => JSON.parse((await call('GET', '/__cost/counts')).text) as EdgeCounts;
    // Usage reaches the key's object with waitUntil, after the answer, and D1 with the object's alarm FLUSH_MS after
    // the first record it holds: wait for that alarm, then until the counts stop moving. A type's flush is counted
    // with its requests (and the warm-up's flush before them, not counted).
    const settled = async () => {
      await new Promise((r) => setTimeout(r, FLUSH_MS + 1_000));
      let last = JSON.stringify(await readCounts());
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setTimeout(r, 150));
        const now = JSON.stringify(await readCounts());
        if (now === last) return JSON.parse(now) as EdgeCounts;
        last = now;
      }
      throw new Error('the Worker\'s counts did not settle');
    };

    const results: EdgeMeasurement[] = [];
    let profiler: IsolateProfiler | null = null;
    for (const request of requests) {
      const send = () => call(request.method, request.path, request.body, keys[request.key]);
      // wrangler dev reloads the Worker when a source file changes (a new workerd process, whose CPU the old pids
      // miss, and fresh objects: a spent rate limit is whole again): such a measurement is taken again, twice at most.
      for (let attempt = 1; ; attempt++) {
        for (let i = 0; i < options.warmup; i++) await send();
        await settled();
        await call('POST', '/__cost/reset');
        const pids = await workerdPids(child.pid!);
        if (pids.length === 0) throw new Error('found no workerd process below wrangler dev');
        const cpu0 = await cpuMsOf(pids);
        // A reload drops the inspector's connection too: a new one for each attempt that finds it gone.
        profiler ??= await isolateProfiler(inspectorPort);
        await profiler.start();
        const statuses: number[] = [];
        let unexpected = '';
        for (let i = 0; i < options.requests; i++) {
          const answer = await send();
          statuses.push(answer.status);
          if (answer.status !== request.status && !unexpected) unexpected = answer.text.slice(0, 300);
        }
        const counts = await settled();
        const cpuMs = await cpuMsOf(pids).catch(() => null);
        const isolate = await profiler.stop().catch(() => null);
        if (isolate === null) {
          profiler.close();
          profiler = null;
        }
        if (cpuMs === null || isolate === null || String(await workerdPids(child.pid!)) !== String(pids)) {
          if (attempt < 3) continue;
          throw new Error(`${request.kind}: the workerd processes changed during the measurement, three times`);
        }
        if (statuses.some((s) => s !== request.status) && attempt < 3) continue;
        if (statuses.some((s) => s !== request.status)) throw new Error(`${request.kind}: expected ${request.status}, the Worker answered ${statuses.join(',')}: ${unexpected}`);
        results.push({ kind: request.kind, requests: options.requests, counts, cpuMs: cpuMs - cpu0, isolateCpuMs: isolate.busyMs, isolateJsMs: isolate.jsMs, statuses });
        break;
      }
    }
    profiler?.close();
    return results;
  } finally {
    if (child) await stopDevEdge(child);
    await generation.close();
    await rm(state, { recursive: true, force: true });
  }
}

/** A one-off look: `tsx bench/cost/edge/measure-edge.ts` prints the counts of two requests of each kind. */
if (process.argv[1]?.endsWith('measure-edge.ts')) {
  const { costRequests } = await import('../requests.js');
  const texts = Array.from({ length: 64 }, (_, i) => `sentence number ${i} of a fine film .`);
  console.log(JSON.stringify(await measureEdge(costRequests(texts), { requests: 2, warmup: 1 }), null, 1));
}
