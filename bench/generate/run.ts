/**
 * bench/generate: streamed completions from stories260K at 1, 4 and 16 concurrent streams, direct to the
 * generation server and through the router, with continuous batching on (GEN_MAX_BATCH=16) and off (1); the two
 * paths take turns within each cell, and each server's CPU per token is read from /proc beside the tokens/s.
 * Prints the table and writes it into bench/RESULTS.md. Usage: npm run bench:generate (BENCH_STREAMS, BENCH_TURNS)
 */
import { cpus, loadavg } from 'node:os';
import { startServerProcess, type ServerProcess } from '../common/processes.js';
import { writeResultsSection } from '../common/results.js';
import { ms } from '../common/stats.js';
import { processCpu } from './process-cpu.js';
import { combined, streamRun, type StreamRun } from './streams.js';

const concurrencies = [1, 4, 16];
const maxTokens = 128;
/** Streams per measurement, spread over the clients (96: 96 one after another at c=1, 6 each at c=16). */
const streams = Number(process.env.BENCH_STREAMS ?? 96);
/** Slices per cell, direct and through the router taking turns (fewer where a client runs under 2 streams a slice). */
const turnsWanted = Number(process.env.BENCH_TURNS ?? 3);

const listening = async () => {};

/** A run, and the CPU each server process spent per token in it (µs, user + system, from /proc). */
interface Cell extends StreamRun {
  cpuPerToken: { generation: number; router: number };
}

/**
 * Direct and through the router at each concurrency, in `turns` alternating slices of the streams, so that a change
 * in the machine's load (other work, a noisy neighbour) falls on both paths alike rather than on one of them.
 */
async function measure(paths: { direct: string; router: string }, generation: ServerProcess, router: ServerProcess): Promise<{ direct: Cell[]; router: Cell[] }> {
  for (const url of [paths.direct, paths.router]) await streamRun(url, 'stories260K', 2, 1, 16); // warm up
  const cells = { direct: [] as Cell[], router: [] as Cell[] };
  for (const c of concurrencies) {
    const perClient = Math.max(1, Math.round(streams / c));
    // Slices of at least two streams a client, so that each keeps the batch full between its ramp-up and its tail.
    const turns = Math.max(1, Math.min(turnsWanted, Math.floor(perClient / 2)));
    const runs = { direct: [] as StreamRun[], router: [] as StreamRun[] };
    const cpu = { direct: { generation: 0, router: 0 }, router: { generation: 0, router: 0 } };
    for (let turn = 0; turn < turns; turn++) {
      const rounds = Math.floor(perClient / turns) + (turn < perClient % turns ? 1 : 0);
      for (const path of turn % 2 === 0 ? ['direct', 'router'] as const : ['router', 'direct'] as const) {
        const before = await Promise.all([processCpu(generation.pid), processCpu(router.pid)]);
        runs[path].push(await streamRun(paths[path], 'stories260K', c, rounds, maxTokens));
        const after = await Promise.all([processCpu(generation.pid), processCpu(router.pid)]);
        cpu[path].generation += after[0].totalMs - before[0].totalMs;
        cpu[path].router += after[1].totalMs - before[1].totalMs;
      }
    }
    for (const path of ['direct', 'router'] as const) {
      const all = combined(runs[path]);
      cells[path].push({ ...all, cpuPerToken: { generation: (1000 * cpu[path].generation) / all.tokens, router: (1000 * cpu[path].router) / all.tokens } });
    }
  }
  return cells;
}

async function main(): Promise<void> {
  const load = loadavg()[0]!;
  const rows: { name: string; runs: Cell[] }[] = [];
  for (const batch of [16, 1]) {
    const generation = await startServerProcess('functions/node/generation-server.ts', { GEN_MAX_BATCH: String(batch) }, listening);
    const router = await startServerProcess('functions/node/server.ts', { GENERATION_UPSTREAM_URL: generation.url }, listening);
    try {
      const label = batch > 1 ? 'continuous batching on' : 'continuous batching off';
      const cells = await measure({ direct: generation.url, router: router.url }, generation, router);
      rows.push({ name: `direct, ${label}`, runs: cells.direct }, { name: `through the router, ${label}`, runs: cells.router });
      console.log(rows.slice(-2).map((r) => `${r.name}: ${r.runs.map((x, i) => `c=${concurrencies[i]} ${x.tokensPerSecond.toFixed(0)} tok/s ttft ${ms(x.ttftP50)} ms`).join(', ')}`).join('\n'));
    } finally {
      await router.stop();
      await generation.stop();
    }
  }
  const [directOn, routerOn, directOff] = rows as [typeof rows[0], typeof rows[0], typeof rows[0]];
  const failed = rows.reduce((n, r) => n + r.runs.reduce((m, x) => m + x.failed, 0), 0);
  const at = (row: typeof rows[0], c: number) => row.runs[concurrencies.indexOf(c)]!;
  const lines = [
    `Run ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} cores, Node ${process.version}; stories260K fp32 on onnxruntime-node (CPU, one thread), `
      + `prompt "Once upon a time", max_tokens ${maxTokens}, temperature 0.8; ${streams} streams per cell, each client running its share back to back, direct and through the router taking turns in up to ${turnsWanted} slices; `
      + `load average ${load.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end${Math.max(load, loadavg()[0]!) > 1.5 ? ' (other work was running: a loaded machine)' : ''}.`,
    '',
    `| Path | ${concurrencies.map((c) => `tok/s c=${c}`).join(' | ')} | ${concurrencies.map((c) => `TTFT p50 ms c=${c}`).join(' | ')} | failed |`,
    `|---|${concurrencies.map(() => '---:').join('|')}|${concurrencies.map(() => '---:').join('|')}|---:|`,
    ...rows.map((r) => `| ${r.name} | ${r.runs.map((x) => x.tokensPerSecond.toFixed(0)).join(' | ')} | ${r.runs.map((x) => ms(x.ttftP50)).join(' | ')} | ${r.runs.reduce((n, x) => n + x.failed, 0)} |`),
    '',
    'Against the targets:',
    `- Router overhead on time to first token (p50, c=1): ${ms(at(routerOn, 1).ttftP50 - at(directOn, 1).ttftP50)} ms (target ≤ 5 ms).`,
    `- Streamed tokens/s through the router vs direct: ${concurrencies.map((c) => `c=${c} ${((100 * at(routerOn, c).tokensPerSecond) / at(directOn, c).tokensPerSecond).toFixed(0)} %`).join(', ')} (target ≥ 95 %).`,
    `- CPU per token through the router (batching on, µs, user + system from /proc): router ${concurrencies.map((c) => `c=${c} ${at(routerOn, c).cpuPerToken.router.toFixed(0)}`).join(', ')}; `
      + `generation server ${concurrencies.map((c) => `c=${c} ${at(routerOn, c).cpuPerToken.generation.toFixed(0)}`).join(', ')} (direct: ${concurrencies.map((c) => `c=${c} ${at(directOn, c).cpuPerToken.generation.toFixed(0)}`).join(', ')}). `
      + `On one machine the router's CPU is taken from the generator and the load generator; on its own (the edge, another host) it costs ${concurrencies.map((c) => `${((100 * at(routerOn, c).cpuPerToken.router) / at(routerOn, c).cpuPerToken.generation).toFixed(0)} %`).join(', ')} of the generator's CPU per token.`,
    `- Continuous batching, aggregate tokens/s at 16 streams vs one at a time: ${(at(directOn, 16).tokensPerSecond / at(directOff, 1).tokensPerSecond).toFixed(2)}x (target ≥ 3x); with batching off, 16 streams give ${(at(directOff, 16).tokensPerSecond / at(directOff, 1).tokensPerSecond).toFixed(2)}x.`,
    `- Failed streams: ${failed}.`,
  ];
  const table = lines.join('\n');
  console.log(`\n${table}`);
  await writeResultsSection('generate', 'Generation: `npm run bench:generate`', table);
  if (failed > 0) process.exitCode = 1;
}

await main();
