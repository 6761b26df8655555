/**
 * bench/cold-start: process spawn to the first 200 from POST /v1/classify, the median of BENCH_SPAWNS (default 5)
 * spawns per way of starting the server, all on `npm start`'s defaults (embedded generation, billing on a fresh
 * SQLite file per spawn, fine-tuning): the old `npm start` (tsx compiling the TypeScript at start), the built
 * JavaScript (functions/node/start.mjs: a freshness check, then dist/node/server.js) on onnxruntime-node and with
 * ORT_BACKEND=wasm, and `npm start` itself (npm's own start-up included). The ways take turns (one spawn of each per
 * round, after one uncounted warm-up round), so a busy machine slows them alike: read the ratios first. Also timed:
 * a full build, the freshness check, and V8 compiling onnxruntime-web's WASM module in a fresh process (what is left
 * of the WASM cold start). Prints the table and writes it into bench/RESULTS.md.
 * Usage: npm run bench:cold-start
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../../functions/node/shared-paths.js';
import { writeResultsSection } from '../common/results.js';
// @ts-expect-error plain JavaScript (npm start's launcher), no declarations
import { build, staleReason } from '../../functions/node/start.mjs';

const spawns = Number(process.env.BENCH_SPAWNS ?? 5);
const TIMEOUT_MS = 60_000;

interface Way {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
}

const ways: Way[] = [
  { name: 'old npm start: tsx functions/node/server.ts, onnxruntime-node', command: join(repoRoot, 'node_modules', '.bin', 'tsx'), args: ['functions/node/server.ts'] },
  { name: 'built JS: node functions/node/start.mjs, onnxruntime-node', command: process.execPath, args: ['functions/node/start.mjs'] },
  { name: 'built JS, ORT_BACKEND=wasm', command: process.execPath, args: ['functions/node/start.mjs'], env: { ORT_BACKEND: 'wasm' } },
  { name: 'npm start (built JS, native; npm itself included)', command: 'npm', args: ['start', '--silent'] },
];

interface Spawned {
  /** Spawn to the first 200 from POST /v1/classify. */
  firstMs: number;
  /** Spawn to the "listening" line on stdout. */
  listeningMs: number;
  /** What the server says it took from its module's evaluation to listening ("ready in N ms"). */
  readyMs: number;
}

/** A port free right now (the server binds it a moment later; a spawn that still finds it taken is tried again). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function classified(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"a fine film"}' });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false; // not listening yet
  }
}

/** Stops the process group (npm does not pass SIGTERM on to its script) and waits for it to exit. */
function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    process.kill(-child.pid!, 'SIGTERM');
  });
}

async function spawnOnce(way: Way, tries = 3): Promise<Spawned> {
  try {
    return await spawnOn(way, await freePort());
  } catch (error) {
    if (tries > 1 && String(error).includes('EADDRINUSE')) return spawnOnce(way, tries - 1);
    throw error;
  }
}

async function spawnOn(way: Way, port: number): Promise<Spawned> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cold-start-'));
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(way.command, way.args, {
    cwd: repoRoot,
    detached: true,
    env: { ...process.env, PORT: String(port), USAGE_DB: join(dataDir, 'usage.sqlite'), ...way.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let seen = '';
  let listeningMs = Number.NaN;
  let readyMs = Number.NaN;
  const read = (chunk: Buffer) => {
    seen += chunk.toString();
    const ready = /listening on .*ready in (\d+) ms/.exec(seen);
    if (ready && Number.isNaN(listeningMs)) [listeningMs, readyMs] = [performance.now() - started, Number(ready[1])];
  };
  child.stdout!.on('data', read);
  child.stderr!.on('data', read);
  try {
    while (!(await classified(url))) {
      if (child.exitCode !== null) throw new Error(`${way.name} exited with ${child.exitCode}: ${seen.slice(-400)}`);
      if (performance.now() - started > TIMEOUT_MS) throw new Error(`${way.name} did not classify in ${TIMEOUT_MS} ms: ${seen.slice(-400)}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    return { firstMs: performance.now() - started, listeningMs, readyMs };
  } finally {
    await stop(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const whole = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : 'n/a');

/** Runs a CommonJS snippet in a fresh node (nothing cached) three times; the median of the number it prints. */
const freshMs = (script: string) => median([0, 1, 2].map(() => Number(spawnSync(process.execPath, ['-e', script], { cwd: repoRoot, encoding: 'utf8' }).stdout.trim())));

/** V8 compiling onnxruntime-web's WASM module (14 MB). */
const wasmCompileMs = () => freshMs("const b=require('fs').readFileSync(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));const t=performance.now();WebAssembly.compile(b).then(()=>console.log(performance.now()-t))");

/** The first onnxruntime-web session of the default model (int8 sst2-bert: module instantiation included), one thread, at a graph optimisation level. */
const wasmSessionMs = (level: 'all' | 'disabled') => freshMs(
  `const b=require('fs').readFileSync('models/sst2-bert/onnx/model_quantized.onnx');import('onnxruntime-web').then(async(ort)=>{ort.env.wasm.numThreads=1;const t=performance.now();await ort.InferenceSession.create(b,{executionProviders:['wasm'],graphOptimizationLevel:'${level}'});console.log(performance.now()-t)})`,
);

const timed = async (run: () => unknown) => {
  const started = performance.now();
  await run();
  return performance.now() - started;
};

const buildMs = await timed(build);
const checkMs = await timed(() => {
  const reason = staleReason();
  if (reason) throw new Error(`dist/node/ is stale right after building: ${reason}`);
});
const load = loadavg()[0]!;
const results = new Map<Way, Spawned[]>(ways.map((way) => [way, []]));
for (let round = 0; round <= spawns; round++) {
  for (const way of ways) {
    const spawned = await spawnOnce(way);
    if (round > 0) results.get(way)!.push(spawned); // round 0 warms the disk cache for every way alike
    process.stdout.write(round > 0 ? '.' : 'w');
  }
}
process.stdout.write('\n');
const compileMs = wasmCompileMs();
const [sessionAll, sessionBare] = [wasmSessionMs('all'), wasmSessionMs('disabled')];

const firstOf = (way: Way) => median(results.get(way)!.map((s) => s.firstMs));
const [old, built, wasm, npm] = ways.map(firstOf) as [number, number, number, number];
const rows = ways.map((way) => {
  const runs = results.get(way)!;
  const firsts = runs.map((s) => s.firstMs);
  return `| ${way.name} | ${whole(median(firsts))} | ${whole(Math.min(...firsts))}–${whole(Math.max(...firsts))} | ${whole(median(runs.map((s) => s.listeningMs)))} | ${whole(median(runs.map((s) => s.readyMs)))} |`;
});
const table = [
  `Run ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), Node ${process.version}, load average ${load.toFixed(1)} at the start${load > 1.5 ? ': the machine was busy, so absolute times are inflated and noisy' : ''}; the ratios (same run, ways taking turns) are what to read. ${spawns} spawns per way, medians; defaults of \`npm start\` (embedded generation, billing on a fresh SQLite file, fine-tuning).`,
  '',
  '| Way | spawn → first classification ms | range | spawn → "listening" ms | server: module start → listening ms |',
  '|---|---:|---:|---:|---:|',
  ...rows,
  '',
  `- Old / built JS (native): ${(old / built).toFixed(2)}x; built JS ${whole(built)} ms against the target ≤ 500 ms: ${built <= 500 ? 'met' : 'missed'}.`,
  `- \`npm start\` adds npm's own start-up: ${whole(npm - built)} ms over the built JS (${whole(npm)} ms${npm <= 500 ? '' : ', over 500 ms'}).`,
  `- WASM / native (built JS): ${(wasm / built).toFixed(2)}x (${whole(wasm - built)} ms more). In fresh processes: V8 compiling onnxruntime-web's 14 MB module takes ${whole(compileMs)} ms; the default model's first WASM session ${whole(sessionAll)} ms with graph optimisation "all" (what the server uses) and ${whole(sessionBare)} ms with it "disabled", so ORT optimising the graph in single-threaded WASM is about ${whole(sessionAll - sessionBare)} ms of it.`,
  `- Build (esbuild, full): ${whole(buildMs)} ms, once after a change; freshness check at each start: ${checkMs.toFixed(1)} ms.`,
].join('\n');
console.log(table);
await writeResultsSection('cold-start', 'Cold start, spawn to first classification: `npm run bench:cold-start`', table);
