/**
 * bench/cold-start/rss.ts: peak RSS of the default Node server (the built JavaScript, `npm start`'s defaults:
 * onnxruntime-node, embedded generation, billing on a fresh SQLite file, fine-tuning) after a 64-concurrency load:
 * spawn, wait for the first classification, RSS_SECONDS (default 10) of autocannon at c=64 with SST-2 dev sentences
 * one per request, then VmHWM (the kernel's peak resident set) and VmRSS from /proc/<pid>/status. Each way in
 * RSS_WAYS (comma-separated names of WAYS below, or paths of other builds' server.js to compare; default all of
 * WAYS) runs RSS_ROUNDS times (default 2), taking turns, so a busy machine weighs on them alike. Prints a table
 * (medians).
 * Usage: npx tsx bench/cold-start/rss.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../functions/node/shared-paths.js';
import { loadRun } from '../classify/http-load.js';
import { devSentences } from '../classify/sentences.js';

const seconds = Number(process.env.RSS_SECONDS ?? 10);
const rounds = Number(process.env.RSS_ROUNDS ?? 2);

/** Environment variants of the default server, compared in the same run. */
const WAYS: Record<string, Record<string, string>> = {
  default: {},
  'V8_OPTIMIZE_FOR_SIZE=off': { V8_OPTIMIZE_FOR_SIZE: 'off' },
  'no-generation': { EMBEDDED_GENERATION: 'off' },
  'no-fine-tuning': { FINE_TUNING: 'off' },
};

/** CPU time the process used so far (all its threads), ms. */
const cpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in clock ticks of 10 ms
};

const statusMb = (pid: number, field: 'VmHWM' | 'VmRSS') => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Number(/(\d+)/.exec(line ?? '')?.[1]) / 1024;
};

const isScript = (name: string) => /\.m?js$/.test(name);

async function measure(name: string, sentences: string[]) {
  const [script, env] = isScript(name) ? [name, {}] : ['functions/node/start.mjs', WAYS[name]!];
  const dataDir = mkdtempSync(join(tmpdir(), 'rss-'));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, [script], {
    cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: String(port), USAGE_DB: join(dataDir, 'usage.sqlite'), ...env },
  });
  let seen = '';
  child.stdout!.on('data', (d) => (seen += d));
  child.stderr!.on('data', (d) => (seen += d));
  const url = `http://127.0.0.1:${port}`;
  try {
    for (const started = Date.now(); !/listening on/.test(seen); await new Promise((r) => setTimeout(r, 5))) {
      if (child.exitCode !== null || Date.now() - started > 60_000) throw new Error(`the server did not start: ${seen.slice(-400)}`);
    }
    const afterStart = statusMb(child.pid!, 'VmRSS');
    const cpuBefore = cpuMs(child.pid!);
    const load = await loadRun(url, sentences, 64, seconds);
    const cpuPerRequest = (cpuMs(child.pid!) - cpuBefore) / Math.max(1, load.answered);
    return { afterStart, peak: statusMb(child.pid!, 'VmHWM'), end: statusMb(child.pid!, 'VmRSS'), rps: load.requestsPerSecond, p50: load.p50, cpuPerRequest, failed: load.failed };
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const names = process.env.RSS_WAYS ? process.env.RSS_WAYS.split(',') : Object.keys(WAYS);
for (const name of names) if (!WAYS[name] && !isScript(name)) throw new Error(`RSS_WAYS: no way "${name}" (ways: ${Object.keys(WAYS).join(', ')})`);
const sentences = await devSentences(872);
const load = loadavg()[0]!;
const runs = new Map(names.map((name) => [name, [] as Awaited<ReturnType<typeof measure>>[]]));
for (let round = 0; round < rounds; round++) for (const name of names) runs.get(name)!.push(await measure(name, sentences));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`load average ${load.toFixed(1)} at the start → ${loadavg()[0]!.toFixed(1)}; ${rounds} rounds, ${seconds} s at c=64; medians`);
console.log('| Way | RSS after start MB | peak RSS (VmHWM) MB | RSS at the end MB | req/s | p50 ms | server CPU ms per request | failed |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const [name, rows] of runs) {
  const m = (pick: (r: (typeof rows)[number]) => number, digits = 0) => median(rows.map(pick)).toFixed(digits);
  console.log(`| ${name} | ${m((r) => r.afterStart)} | ${m((r) => r.peak)} | ${m((r) => r.end)} | ${m((r) => r.rps)} | ${m((r) => r.p50)} | ${m((r) => r.cpuPerRequest, 2)} | ${m((r) => r.failed)} |`);
}
