/**
 * bench/compare: this checkout against another commit (default HEAD~1, or the ref given), in one run. Each round
 * starts `npm start`'s server (WASM, micro-batching, billing in open mode on a fresh SQLite file, the embedded
 * generation server) from one tree, measures it, stops it, then the other tree: rounds alternate so that the
 * machine's noise falls on both. Prints the medians per tree and their ratios (this / other), and writes them into
 * bench/RESULTS.md.
 * Usage: npm run bench:compare -- [<git ref>]   (BENCH_ROUNDS, default 3; BENCH_SECONDS per load run, default 5)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, sharedDir } from '../../functions/node/shared-paths.js';
import { loadRun, sequentialLatency } from '../classify/http-load.js';
import { devSentences } from '../classify/sentences.js';
import { startServerProcess } from '../common/processes.js';
import { writeResultsSection } from '../common/results.js';
import { streamRun } from '../generate/streams.js';
import { checkoutOf } from './checkout.js';

const ref = process.argv[2] ?? 'HEAD~1';
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);

type Figures = Record<string, number>;
const FIGURES: [string, 'lower' | 'higher'][] = [
  ['classify p50 ms', 'lower'], ['classify p99 ms', 'lower'], ['classify req/s c=16', 'higher'],
  ['generate TTFT p50 ms c=1', 'lower'], ['generate tok/s c=4', 'higher'], ['cold start ms', 'lower'], ['peak RSS MB', 'lower'],
];

async function measure(cwd: string, sentences: string[]): Promise<Figures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-compare-'));
  const server = await startServerProcess('functions/node/server.ts', {
    BILLING: 'on', EMBEDDED_GENERATION: 'on', USAGE_DB: join(dataDir, 'usage.sqlite'), SHARED_DIR: sharedDir, // the other tree is not beside ../shared
  }, undefined, { cwd });
  try {
    await sequentialLatency(server.url, sentences, 50);
    const latency = await sequentialLatency(server.url, sentences, 300);
    const load = await loadRun(server.url, sentences, 16, seconds);
    await streamRun(server.url, 'stories260K', 1, 2, 16);
    const one = await streamRun(server.url, 'stories260K', 1, 8, 64);
    const four = await streamRun(server.url, 'stories260K', 4, 4, 64);
    if (load.failed + one.failed + four.failed > 0) throw new Error(`${cwd}: ${load.failed + one.failed + four.failed} requests failed`);
    return {
      'classify p50 ms': latency.p50, 'classify p99 ms': latency.p99, 'classify req/s c=16': load.requestsPerSecond,
      'generate TTFT p50 ms c=1': one.ttftP50, 'generate tok/s c=4': four.tokensPerSecond,
      'cold start ms': server.coldStartMs, 'peak RSS MB': await server.peakRssMb(),
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const other = checkoutOf(ref);
  const sentences = await devSentences(872);
  const trees = [{ name: 'this checkout', dir: repoRoot, runs: [] as Figures[] }, { name: `${ref} (${other.commit.slice(0, 7)})`, dir: other.dir, runs: [] as Figures[] }];
  for (let round = 0; round < rounds; round++) {
    // Alternate which tree goes first, so neither always runs on a warmer machine.
    for (const tree of round % 2 === 0 ? trees : [...trees].reverse()) {
      tree.runs.push(await measure(tree.dir, sentences));
      console.log(`round ${round + 1}, ${tree.name}: ${FIGURES.map(([f]) => `${f} ${tree.runs.at(-1)![f]!.toFixed(1)}`).join(', ')}`);
    }
  }
  const [mine, theirs] = trees as [typeof trees[0], typeof trees[0]];
  const lines = [
    `Run ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} cores, Node ${process.version}: medians of ${rounds} rounds per tree, alternating; `
      + `300 sequential classifications, ${seconds} s at 16 connections, 8 streams of 64 tokens at c=1 and 16 at c=4 through the router.`,
    '',
    `| figure | ${mine.name} | ${theirs.name} | this / other | better is |`,
    '|---|---:|---:|---:|---|',
    ...FIGURES.map(([figure, better]) => {
      const a = median(mine.runs.map((r) => r[figure]!));
      const b = median(theirs.runs.map((r) => r[figure]!));
      return `| ${figure} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a / b).toFixed(2)} | ${better} |`;
    }),
  ];
  console.log(`\n${lines.join('\n')}`);
  await writeResultsSection('compare', 'This checkout against another commit: `npm run bench:compare -- <ref>`', lines.join('\n'));
}

await main();
