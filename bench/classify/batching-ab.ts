/**
 * Micro-batching on against off at concurrency 64, interleaved: two servers of this checkout, the same model and
 * backend, MICRO_BATCHING on and off, taking turns for `rounds` rounds of `seconds` each, so that a machine's load
 * (other processes) hits both alike. Reports the median req/s of each and the server's CPU per request
 * (/proc/<pid>/stat, every thread), the ratio a busy machine inflates least. Rates count answers (2xx) only.
 * Alone: `npx tsx bench/classify/batching-ab.ts` (BENCH_MODEL, ORT_BACKEND=node|wasm, BENCH_SECONDS, BENCH_ROUNDS).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../../functions/node/shared-paths.js';
import { listeningUrl } from '../common/processes.js';
import { loadRun } from './http-load.js';
import { devSentences } from './sentences.js';

export interface ArmResult {
  requestsPerSecond: number;
  cpuMsPerRequest: number;
  p50: number;
  p99: number;
  failed: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'functions/node/server.ts'], {
    cwd: repoRoot, env: { ...process.env, PORT: '0', EMBEDDED_GENERATION: 'off', BILLING: 'off', ...env }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await listeningUrl(child, 'functions/node/server.ts');
  const cpuMs = async () => {
    const fields = (await readFile(`/proc/${child.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in clock ticks of 10 ms
  };
  return { url, cpuMs, stop: () => new Promise<void>((done) => { child.once('exit', () => done()); child.kill('SIGTERM'); }) };
}

export async function batchingOnOff(backend: 'node' | 'wasm', model: string | undefined, sentences: string[], rounds: number, seconds: number): Promise<{ on: ArmResult; off: ArmResult }> {
  const [on, off] = await interleaved(backend, model, sentences, rounds, seconds, [{}, { MICRO_BATCHING: 'off' }]);
  return { on: on!, off: off! };
}

/** Servers with the given environments, taking turns; one ArmResult each, in their order. */
export async function interleaved(backend: 'node' | 'wasm', model: string | undefined, sentences: string[], rounds: number, seconds: number, envs: Record<string, string>[]): Promise<ArmResult[]> {
  const arms = envs.map((env) => ({ env }));
  const servers = await Promise.all(arms.map(async (arm) => ({ ...arm, server: await start({ ORT_BACKEND: backend, ...arm.env }), runs: [] as (ArmResult & { answered: number })[] })));
  try {
    for (const { server } of servers) await loadRun(server.url, sentences, 64, 2, {}, model); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const arm of servers) {
        const cpu0 = await arm.server.cpuMs();
        const result = await loadRun(arm.server.url, sentences, 64, seconds, {}, model);
        // Answers only (2xx): autocannon's rate counts a 503 from a shedding queue as a request served.
        arm.runs.push({ ...result, requestsPerSecond: result.answered / seconds, cpuMsPerRequest: (await arm.server.cpuMs() - cpu0) / Math.max(1, result.answered) });
      }
    }
  } finally {
    await Promise.all(servers.map(({ server }) => server.stop()));
  }
  const summary = (runs: (ArmResult & { answered: number })[]): ArmResult => ({
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    cpuMsPerRequest: median(runs.map((r) => r.cpuMsPerRequest)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    failed: runs.reduce((n, r) => n + r.failed, 0),
  });
  return servers.map((arm) => summary(arm.runs));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const backend = process.env.ORT_BACKEND === 'wasm' ? 'wasm' : 'node';
  const { on, off } = await batchingOnOff(backend, process.env.BENCH_MODEL || undefined, await devSentences(872), Number(process.env.BENCH_ROUNDS ?? 3), Number(process.env.BENCH_SECONDS ?? 5));
  console.log({ on, off });
  console.log(`on / off at c=64: ${(on.requestsPerSecond / off.requestsPerSecond).toFixed(2)}x by req/s, ${(off.cpuMsPerRequest / on.cpuMsPerRequest).toFixed(2)}x by server CPU per request`);
}
