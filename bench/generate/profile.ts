/**
 * bench/generate/profile: where the CPU goes when 16 streams run direct and through the router. Starts the
 * generation server and the router with a CPU profiler (cpu-prof-hook.mjs: NODE_OPTIONS refuses --cpu-prof), runs
 * `BENCH_STREAMS` (default 64) streamed completions at c=16 direct, then through the router, and prints each
 * process's CPU per 1,000 tokens (from /proc) and the functions with the most self time in each window's profile.
 * PROFILE=off measures CPU only; ONLY=direct or ONLY=router runs one window; MAX_TOKENS (default 128). Usage: npx tsx bench/generate/profile.ts [out-dir]
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from '../common/processes.js';
import { cpuPerToken, processCpu } from './process-cpu.js';
import { streamRun } from './streams.js';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const outDir = process.argv[2] ?? '/tmp/edge-maas-gen-profile';
const streams = Number(process.env.BENCH_STREAMS ?? 64);
const top = Number(process.env.PROFILE_TOP ?? 25);
const listening = async () => {};

async function topSelf(file: string, n: number): Promise<string[]> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/functions\//, 'functions/');
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  const idle = self.get('(idle) :0') ?? 0;
  return [`busy ${((total - idle) / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms`,
    ...[...self].filter(([k]) => k !== '(idle) :0').sort((a, b) => b[1] - a[1]).slice(0, n)
      .map(([k, v]) => `${((100 * v) / (total - idle)).toFixed(1).padStart(5)} %  ${k}`)];
}

const signal = (servers: ServerProcess[]) => process.env.PROFILE !== 'off' && servers.forEach((s) => process.kill(s.pid!, 'SIGUSR2'));

async function window(name: string, url: string, servers: ServerProcess[]): Promise<void> {
  await streamRun(url, 'stories260K', 4, 2, 32); // warm up
  signal(servers);
  const before = await Promise.all(servers.map((s) => processCpu(s.pid)));
  const run = await streamRun(url, 'stories260K', 16, Math.max(1, Math.round(streams / 16)), Number(process.env.MAX_TOKENS ?? 128));
  const after = await Promise.all(servers.map((s) => processCpu(s.pid)));
  signal(servers);
  const per = (i: number) => {
    const { user, system, total } = cpuPerToken(before[i]!, after[i]!, run.tokens);
    return `${total.toFixed(0)} (user ${user.toFixed(0)}, system ${system.toFixed(0)})`;
  };
  console.log(`c=16 ${name}: ${run.tokensPerSecond.toFixed(0)} tok/s, ${run.tokens} tokens, failed ${run.failed}; CPU µs per token: generation ${per(0)}, router ${per(1)}`);
}

async function main(): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const hook = new URL('./cpu-prof-hook.mjs', import.meta.url).pathname;
  const prof = (name: string): Record<string, string> => (process.env.PROFILE === 'off' ? {} : { NODE_OPTIONS: `--import ${hook}`, CPU_PROF_DIR: join(outDir, name) });
  const generation = await startServerProcess('functions/node/generation-server.ts', { GEN_MAX_BATCH: '16', ...prof('generation') }, listening);
  const router = await startServerProcess('functions/node/server.ts', { GENERATION_UPSTREAM_URL: generation.url, ...prof('router') }, listening);
  try {
    if (process.env.ONLY !== 'router') await window('direct', generation.url, [generation, router]);
    if (process.env.ONLY !== 'direct') await window('through the router', router.url, [generation, router]);
  } finally {
    await new Promise((r) => setTimeout(r, 200)); // the profiles are written
    await router.stop();
    await generation.stop();
  }
  if (process.env.PROFILE === 'off') return;
  for (const name of ['generation', 'router']) {
    const files = (await readdir(join(outDir, name))).filter((f) => f.endsWith('.cpuprofile')).sort();
    for (const [i, label] of ['direct', 'through the router'].entries()) {
      if (name === 'router' && i === 0) continue; // idle while the direct window ran
      const file = join(outDir, name, files[i]!);
      console.log(`\n${name}, ${label} (${file}):\n${(await topSelf(file, top)).join('\n')}`);
    }
  }
}

await main();
