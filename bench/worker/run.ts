/**
 * bench/worker (issue 21 item 8 and the "Worker's first request" target): the Worker in fresh `wrangler dev`
 * processes (workerd), each on a fresh local state folder, in open mode as `npm run dev:edge` runs it.
 * - First request: BENCH_ISOLATES (default 5) fresh processes, each timed from spawning wrangler dev to its "Ready"
 *   line and to the first 200 from POST /v1/classify (sent at once after "Ready"; the isolate loads its models on
 *   that request), then a second request. Medians. The local D1's migrations run before each spawn, not timed.
 * - Memory, in the first process only: through workerd's V8 inspector (wrangler dev --inspector-port), a heap
 *   snapshot (which collects garbage first) and Runtime.getHeapUsage, after the first request, after a burst of
 *   SST-2 dev sentences in 64-text batches, and after requests of 16, 32 and 64 texts cut at the model's 128 tokens
 *   (each run as session.runs of at most DEFAULT_MAX_RUN_TOKENS, 16 x 128, so all three should hold the same). The
 *   snapshot's total is the isolate's JS heap plus its ArrayBuffers' data, onnxruntime-web's WebAssembly memory
 *   among them (the largest ArrayBuffer whose size is whole 64 KiB pages): what a Workers isolate's 128 MB covers.
 *   workerd's RSS (the whole process: runtime, compiled code, Miniflare's other workers) is given for context.
 * Prints the tables and writes them into bench/RESULTS.md. Usage: npm run bench:worker (about 2 minutes)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../functions/node/shared-paths.js';
import { devSentences } from '../classify/sentences.js';
import { devEdgeReady, migrateLocalD1, stopDevEdge } from '../common/dev-edge.js';
import { writeResultsSection } from '../common/results.js';

const isolates = Number(process.env.BENCH_ISOLATES ?? 5);
const MiB = 2 ** 20;
const WASM_PAGE = 64 * 1024;
const BATCH = 64;

interface MinimalWebSocket {
  onopen: (() => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: string }) => void) | null;
  send(data: string): void;
  close(): void;
}
// Node 20's WebSocket (undici) needs --experimental-websocket (the bench:worker script passes it); wrangler's
// inspector proxy refuses a connection without an Origin header, which undici's second argument can set.
const WebSocketClass = (globalThis as unknown as { WebSocket?: new (url: string, init: { headers: Record<string, string> }) => MinimalWebSocket }).WebSocket;

const port = () => 20_000 + Math.floor(Math.random() * 30_000);

/** wrangler dev as bench/common/dev-edge.ts starts it, plus an inspector port. */
function startWrangler(httpPort: number, inspectorPort: number, state: string): ChildProcess {
  const args = ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(httpPort), '--inspector-port', String(inspectorPort), '--persist-to', state, '--var', 'AUTH_MODE:open'];
  return spawn('npx', args, { cwd: repoRoot, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
}

async function classify(httpPort: number, input: string | string[]): Promise<number> {
  const started = performance.now();
  const res = await fetch(`http://127.0.0.1:${httpPort}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input, cache: false }) });
  const body = await res.text();
  if (!res.ok) throw new Error(`workerd answered ${res.status} to POST /v1/classify: ${body.slice(0, 300)}`);
  return performance.now() - started;
}

/** The inspector's Chrome DevTools Protocol, enough for a heap snapshot and the heap usage. */
async function inspector(inspectorPort: number) {
  if (!WebSocketClass) throw new Error('no global WebSocket: run with node --experimental-websocket (npm run bench:worker does)');
  const ws = new WebSocketClass(`ws://127.0.0.1:${inspectorPort}/ws`, { headers: { origin: `http://127.0.0.1:${inspectorPort}` } });
  let nextId = 0;
  const pending = new Map<number, (result: unknown) => void>();
  let chunks: string[] = [];
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data) as { id?: number; method?: string; params?: { chunk: string }; result?: unknown };
    if (message.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(message.params!.chunk);
    else if (message.id !== undefined && pending.has(message.id)) {
      pending.get(message.id)!(message.result);
      pending.delete(message.id);
    }
  };
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`cannot open workerd's inspector on port ${inspectorPort}`));
  });
  const send = (method: string, params: object = {}) => new Promise<unknown>((resolve) => {
    const id = ++nextId;
    pending.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
  return {
    async snapshot(): Promise<string> {
      chunks = [];
      await send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      return chunks.join('');
    },
    heapUsage: () => send('Runtime.getHeapUsage') as Promise<{ usedSize: number; totalSize: number; backingStorageSize?: number }>,
    close: () => ws.close(),
  };
}

interface Memory {
  /** The snapshot's nodes' self sizes together: JS heap objects plus ArrayBuffers' data. */
  snapshotTotal: number;
  arrayBufferData: number;
  wasmMemory: number;
  /** Runtime.getHeapUsage after the snapshot's collection: V8's heap without ArrayBuffers' data. */
  jsHeapUsed: number;
  workerdRssMb: number;
}

function readSnapshot(json: string): Pick<Memory, 'snapshotTotal' | 'arrayBufferData' | 'wasmMemory'> {
  const snapshot = JSON.parse(json) as { snapshot: { meta: { node_fields: string[] } }; nodes: number[]; strings: string[] };
  const fields = snapshot.snapshot.meta.node_fields;
  const [name, size] = [fields.indexOf('name'), fields.indexOf('self_size')];
  let snapshotTotal = 0;
  let arrayBufferData = 0;
  let wasmMemory = 0;
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const bytes = snapshot.nodes[i + size]!;
    snapshotTotal += bytes;
    if (snapshot.strings[snapshot.nodes[i + name]!] !== 'system / JSArrayBufferData') continue;
    arrayBufferData += bytes;
    if (bytes % WASM_PAGE === 0 && bytes > wasmMemory) wasmMemory = bytes;
  }
  return { snapshotTotal, arrayBufferData, wasmMemory };
}

/** RSS of the workerd processes in wrangler's process group. */
function workerdRssMb(group: number): number {
  let kb = 0;
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const afterComm = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (!stat.includes('(workerd)') || Number(afterComm[2]) !== group) continue;
      kb += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // the process exited meanwhile
    }
  }
  return kb / 1024;
}

interface Isolate {
  readyMs: number;
  spawnToAnswerMs: number;
  firstRequestMs: number;
  secondRequestMs: number;
  memory?: { phase: string; memory: Memory }[];
}

async function oneIsolate(measureMemory: boolean, sentences: string[]): Promise<Isolate> {
  const state = mkdtempSync(join(tmpdir(), 'edge-maas-bench-worker-'));
  const [httpPort, inspectorPort] = [port(), port()];
  try {
    await migrateLocalD1(state);
    const started = performance.now();
    const child = startWrangler(httpPort, inspectorPort, state);
    try {
      await devEdgeReady(child);
      const readyMs = performance.now() - started;
      const firstRequestMs = await classify(httpPort, 'a gorgeous, witty, seductive movie');
      const spawnToAnswerMs = performance.now() - started;
      const secondRequestMs = await classify(httpPort, 'a dull, pointless mess');
      const result: Isolate = { readyMs, spawnToAnswerMs, firstRequestMs, secondRequestMs };
      if (!measureMemory) return result;
      const devtools = await inspector(inspectorPort);
      const measure = async (phase: string) => {
        const snapshot = readSnapshot(await devtools.snapshot());
        const usage = await devtools.heapUsage();
        result.memory!.push({ phase, memory: { ...snapshot, jsHeapUsed: usage.usedSize, workerdRssMb: workerdRssMb(child.pid!) } });
      };
      result.memory = [];
      await measure('models loaded (after the first request)');
      for (let i = 0; i < sentences.length; i += BATCH) await classify(httpPort, sentences.slice(i, i + BATCH));
      await measure(`after ${Math.ceil(sentences.length / BATCH)} batches of 64 SST-2 dev sentences`);
      const long = Array.from({ length: BATCH }, (_, i) => sentences.slice(i * 8, i * 8 + 8).join(' '));
      for (const size of [16, 32, 64]) {
        for (let i = 0; i < BATCH; i += size) await classify(httpPort, long.slice(i, i + size));
        await measure(`after batches of ${size} texts of 128 tokens`);
      }
      devtools.close();
      return result;
    } finally {
      await stopDevEdge(child);
    }
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const mb = (bytes: number) => (bytes / MiB).toFixed(1);
const whole = (value: number) => value.toFixed(0);

const sentences = await devSentences(10_000);
const loadBefore = loadavg()[0]!;
const runs: Isolate[] = [];
for (let i = 0; i < isolates; i++) {
  runs.push(await oneIsolate(i === 0, sentences));
  process.stdout.write('.');
}
process.stdout.write('\n');
const loadAfter = loadavg()[0]!;

const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).stdout.trim() || 'unknown';
const lines = [
  `Run ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}, wrangler dev (workerd); commit ${commit}; \`npm run bench:worker\`; load average (1 min) ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)}${Math.max(loadBefore, loadAfter) > 1.5 ? ': the machine was busy, so times are upper bounds' : ''}.`,
  '',
  `**First request**, ${runs.length} fresh \`wrangler dev\` processes (fresh local state each), medians (each run: ${runs.map((r) => whole(r.firstRequestMs)).join(', ')} ms):`,
  '',
  '| spawn → "Ready" | first POST /v1/classify (isolate loads its models) | spawn → first answer | second request |',
  '| --- | --- | --- | --- |',
  `| ${whole(median(runs.map((r) => r.readyMs)))} ms | ${whole(median(runs.map((r) => r.firstRequestMs)))} ms | ${whole(median(runs.map((r) => r.spawnToAnswerMs)))} ms | ${whole(median(runs.map((r) => r.secondRequestMs)))} ms |`,
  '',
  '**Memory of the isolate**, first process, through the V8 inspector (heap snapshot, which collects garbage first); MiB:',
  '',
  '| when | snapshot total (JS heap + ArrayBuffers) | WebAssembly memory (onnxruntime-web) | other ArrayBuffers (bundled model files, …) | JS heap (Runtime.getHeapUsage) | workerd RSS (the whole process, for context) |',
  '| --- | --- | --- | --- | --- | --- |',
  ...(runs[0]?.memory ?? []).map(({ phase, memory: m }) =>
    `| ${phase} | ${mb(m.snapshotTotal)} | ${mb(m.wasmMemory)} | ${mb(m.arrayBufferData - m.wasmMemory)} | ${mb(m.jsHeapUsed)} | ${m.workerdRssMb.toFixed(0)} |`),
];
const table = lines.join('\n');
console.log(table);
await writeResultsSection('worker', "The Worker's memory and first request (issue 21 item 8): `npm run bench:worker`", table);
