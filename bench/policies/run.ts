/**
 * bench/policies: the router with policies and metrics on versus everything off, side by side in one process
 * (bench/policies/ab-server.ts), bench/billing's method: p50 of one classification over sequential requests taking
 * turns, and throughput at 32 connections, rounds alternating, also read as the server CPU each answer took (what a
 * shared machine's other processes do not change). A third app runs OpenTelemetry's API alone (spans
 * without an SDK), to show what the always-on trace calls cost. Writes its table into bench/RESULTS.md.
 * Usage: npm run bench:policies (BENCH_SECONDS per throughput run, default 2; BENCH_ROUNDS, default 20)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRun, sequentialLatency } from '../classify/http-load.js';
import { devSentences } from '../classify/sentences.js';
import { startAbServer } from '../common/ab-server.js';
import { writeResultsSection } from '../common/results.js';
import { cpuMsOf } from '../common/workerd-cpu.js';
import { inProcessCpu } from './in-process-cpu.js';
import { WAYS } from './ways.js';
import { ms, percentile } from '../common/stats.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 2);
/** Many short rounds: on a shared machine the load drifts within seconds, and each round's three runs are adjacent. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
/** Sequential requests per app: 200 to warm up, 2,000 measured. */
const SEQUENTIAL = 2_200;

async function startPoliciesAb(usageDb: string) {
  const { words, pid, stop } = await startAbServer('bench/policies/ab-server.ts', { USAGE_DB: usageDb });
  return { urls: words, pid, stop };
}

/** Sequential p50 of each app, their requests taking turns one by one. */
async function interleavedP50(urls: string[], sentences: string[], requests: number): Promise<number[]> {
  const times = urls.map(() => [] as number[]);
  for (let i = 0; i < requests; i++) {
    for (const [w, url] of urls.entries()) times[w]!.push((await sequentialLatency(url, [sentences[i % sentences.length]!], 1)).p50);
  }
  return times.map((t) => percentile(t, 50));
}

/** The classifications /metrics counted on the app with metrics: what the load sent it, if it counts right. */
async function countedClassifications(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^edge_maas_http_requests_total\{[^}]*route="\/v1\/classify"[^}]*status="200"[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

async function main(): Promise<void> {
  const sentences = await devSentences(872);
  const dir = await mkdtemp(join(tmpdir(), 'edge-maas-bench-policies-'));
  const load = loadavg()[0]!;
  const server = await startPoliciesAb(join(dir, 'policies.sqlite'));
  const rps = WAYS.map(() => [] as number[]);
  /** The server process's CPU ms per answered request, per round: what the other processes on the machine do not change. */
  const cpuPerRequest = WAYS.map(() => [] as number[]);
  let p50: number[] = [];
  let failed = 0;
  let sent = 0;
  let counted = 0;
  try {
    const { urls } = server;
    await interleavedP50(urls, sentences, 200);
    p50 = await interleavedP50(urls, sentences, SEQUENTIAL - 200);
    for (let round = 0; round < ROUNDS; round++) {
      // Rotated each round, so that no app always runs first (or last, on a warmer machine).
      for (let k = 0; k < urls.length; k++) {
        const w = (k + round) % urls.length;
        const cpuBefore = await cpuMsOf([server.pid]);
        const result = await loadRun(urls[w]!, sentences, 32, seconds);
        cpuPerRequest[w]!.push((await cpuMsOf([server.pid]) - cpuBefore) / result.answered);
        rps[w]!.push(result.requestsPerSecond);
        failed += result.failed;
        if (w === 2) sent += result.answered;
      }
    }
    counted = await countedClassifications(urls[2]!);
  } finally {
    await server.stop();
  }
  let routerCpu: number[][];
  try {
    routerCpu = await inProcessCpu(join(dir, 'in-process.sqlite'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  // Each way against everything off in the same round, then the median over rounds: drift between rounds cancels.
  const ratio = (w: number) => percentile(rps[w]!.map((r, round) => r / rps[0]![round]!), 50);
  const cpu = (w: number) => percentile(cpuPerRequest[w]!, 50);
  // CPU-bound at 32 connections, a server's throughput is the inverse of its CPU per request: per round, then the median.
  const cpuRatio = (w: number) => percentile(cpuPerRequest[w]!.map((c, round) => cpuPerRequest[0]![round]! / c), 50);
  const routerMs = (w: number) => percentile(routerCpu[w]!, 50);
  const routerRatio = (w: number) => percentile(routerCpu[w]!.map((c, round) => routerCpu[0]![round]! / c), 50);
  const lines = [
    `Run ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} cores, Node ${process.version}, load average ${load.toFixed(1)} at the start; POST /v1/classify, one SST-2 sentence, onnxruntime-node; `
      + `one process, each app over its own engines; p50 over 2,000 sequential requests each, taking turns one by one; throughput: ${seconds} s at 32 connections, ${ROUNDS} rounds of the three, order rotated.`,
    '',
    '| Router | p50 ms | req/s at c=32, mean (range over rounds) | req/s / off, median of rounds | server CPU ms / request, median | throughput the CPU allows / off, median of rounds |',
    '|---|---:|---:|---:|---:|---:|',
    ...WAYS.map((way, w) => `| ${way} | ${ms(p50[w]!)} | ${mean(rps[w]!).toFixed(0)} (${Math.min(...rps[w]!).toFixed(0)}-${Math.max(...rps[w]!).toFixed(0)}) | ${(100 * ratio(w)).toFixed(1)} % | ${cpu(w).toFixed(3)} | ${(100 * cpuRatio(w)).toFixed(1)} % |`),
    '',
    `- Policies + metrics on: throughput ${(100 * cpuRatio(2)).toFixed(1)} % of everything off by server CPU per request, ${(100 * ratio(2)).toFixed(1)} % by requests answered (target ≥ 95 %); p50 added ${ms(p50[2]! - p50[0]!)} ms (target ≤ 0.3 ms).`,
    `- OpenTelemetry's API without an SDK: ${(100 * cpuRatio(1)).toFixed(1)} % by CPU, ${(100 * ratio(1)).toFixed(1)} % by requests answered; p50 added ${ms(p50[1]! - p50[0]!)} ms.`,
    `- Without HTTP (bench/policies/in-process-cpu.ts: 32 callers of app.request(), ${routerCpu[0]!.length} rounds of 2,000 requests, medians): `
      + `${WAYS.map((way, w) => `${way} ${routerMs(w).toFixed(4)} ms CPU a request (${(100 * routerRatio(w)).toFixed(1)} % of off's throughput)`).join('; ')}.`,
    `- /metrics counted ${counted} answered classifications on the app with metrics; the load got ${sent} answers there and the p50 runs ${SEQUENTIAL} (${sent + SEQUENTIAL}; up to 32 a run more that the load gave up on at its end). Failed requests: ${failed}.`,
  ];
  const table = lines.join('\n');
  console.log(table);
  await writeResultsSection('policies', 'Policies and metrics overhead (issue 14): `npm run bench:policies`', table);
  const expected = sent + SEQUENTIAL;
  if (failed > 0 || counted < expected || counted > expected + 32 * ROUNDS) process.exitCode = 1;
}

await main();
