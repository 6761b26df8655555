/**
 * bench/billing: the router with authentication, rate limits and metering (SQLite) on versus off, side by side in
 * one process (bench/billing/ab-server.ts): p50 latency of one classification and throughput at 32 connections,
 * on onnxruntime-node so that the engine does not hide the overhead. Writes its table into bench/RESULTS.md.
 * Usage: npm run bench:billing
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRun, sequentialLatency } from '../classify/http-load.js';
import { devSentences } from '../classify/sentences.js';
import { startAbServer } from '../common/ab-server.js';
import { writeResultsSection } from '../common/results.js';
import { ms, percentile } from '../common/stats.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);

/** The A/B server: its two URLs and the key it made, once it printed them. */
async function startBillingAb(usageDb: string) {
  const { words, stop } = await startAbServer('bench/billing/ab-server.ts', { USAGE_DB: usageDb });
  const [offUrl, onUrl, key] = words as [string, string, string];
  return { offUrl, onUrl, key, stop };
}

/** Sequential p50 of both apps, their requests taking turns one by one. */
async function interleavedP50(offUrl: string, onUrl: string, headers: Record<string, string>, sentences: string[], requests: number) {
  const off: number[] = [];
  const on: number[] = [];
  for (let i = 0; i < requests; i++) {
    off.push((await sequentialLatency(offUrl, [sentences[i % sentences.length]!], 1)).p50);
    on.push((await sequentialLatency(onUrl, [sentences[i % sentences.length]!], 1, headers)).p50);
  }
  return { off: percentile(off, 50), on: percentile(on, 50) };
}

async function main(): Promise<void> {
  const sentences = await devSentences(872);
  const dir = await mkdtemp(join(tmpdir(), 'edge-maas-bench-billing-'));
  const server = await startBillingAb(join(dir, 'usage.sqlite'));
  let on = { p50: 0, rps: 0, failed: 0 };
  let off = { p50: 0, rps: 0, failed: 0 };
  try {
    const { offUrl, onUrl, key } = server;
    const headers = { authorization: `Bearer ${key}` };
    await interleavedP50(offUrl, onUrl, headers, sentences, 200);
    const p50 = await interleavedP50(offUrl, onUrl, headers, sentences, 2_000);
    const runs = { off: [] as number[], on: [] as number[], failed: 0 };
    for (let round = 0; round < 2; round++) {
      const a = await loadRun(offUrl, sentences, 32, seconds);
      const b = await loadRun(onUrl, sentences, 32, seconds, headers);
      runs.off.push(a.requestsPerSecond);
      runs.on.push(b.requestsPerSecond);
      runs.failed += a.failed + b.failed;
    }
    const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
    off = { p50: p50.off, rps: mean(runs.off), failed: runs.failed };
    on = { p50: p50.on, rps: mean(runs.on), failed: 0 };
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const lines = [
    `Run ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} cores, Node ${process.version}; POST /v1/classify, one SST-2 sentence, onnxruntime-node; `
      + `one process serving the same engine through both apps; p50 over 2,000 sequential requests each, taking turns one by one; throughput: ${seconds} s at 32 connections, two rounds each, alternating (means).`,
    '',
    '| Router | p50 ms | req/s at c=32 |',
    '|---|---:|---:|',
    `| billing off | ${ms(off.p50)} | ${off.rps.toFixed(0)} |`,
    `| keys + rate limits + metering (SQLite) | ${ms(on.p50)} | ${on.rps.toFixed(0)} |`,
    '',
    `- Throughput with billing: ${((100 * on.rps) / off.rps).toFixed(0)} % of without (target ≥ 80 %); p50 added: ${ms(on.p50 - off.p50)} ms (target ≤ 0.5 ms). Failed requests: ${off.failed}.`,
  ];
  const table = lines.join('\n');
  console.log(table);
  await writeResultsSection('billing', 'Billing overhead: `npm run bench:billing`', table);
  if (off.failed > 0) process.exitCode = 1;
}

await main();
