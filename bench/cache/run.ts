/**
 * bench/cache: the exact-match classification cache on against off, side by side in one run, at a realistic repeat
 * rate (BENCH_REPEAT, default 0.3: 30 % of requests repeat a text asked before, drawn uniformly from those; the rest
 * are SST-2 train sentences not asked before). Two `npm start` servers run at once, CLASSIFY_CACHE=off and =on, on
 * the same engine (BENCH_BACKENDS, default node,wasm: a pair per engine); the same request stream goes to both in alternating blocks,
 * so that load on the machine (other processes) falls on both alike. Phase 1: sequential requests (p50, p99, and
 * the cached server's hits and misses apart). Phase 2: BENCH_CONCURRENCY (16) requests in flight (requests/s).
 * Prints the table and the ratios, and writes them into bench/RESULTS.md.
 * BENCH_REQUESTS (default 600) and BENCH_LOAD_REQUESTS (default 2,000) size the phases.
 * Usage: npm run bench:cache
 */
import { resolve } from 'node:path';
import { readLabelledTsv } from '../../models/tools/labelled-tsv.js';
import { sst2Dir } from '../../functions/node/shared-paths.js';
import { startServerProcess, type ServerProcess } from '../common/processes.js';
import { writeResultsSection } from '../common/results.js';
import { ms, percentile } from '../common/stats.js';

const repeatRate = Number(process.env.BENCH_REPEAT ?? 0.3);
const sequentialCount = Number(process.env.BENCH_REQUESTS ?? 600);
const loadCount = Number(process.env.BENCH_LOAD_REQUESTS ?? 2_000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
/** ORT_BACKEND of each pair of servers: npm start's default (native) and WASM, what the edge runs. */
const backends = (process.env.BENCH_BACKENDS ?? 'node,wasm').split(',');
const SEQUENTIAL_BLOCK = 50;
const LOAD_BLOCK = 250;

/** A small seeded PRNG (mulberry32): the same stream every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` requests: a `rate` share repeat an earlier one of the stream, the others take the next fresh sentence. */
function requestStream(fresh: string[], count: number, rate: number, random: () => number): string[] {
  const stream: string[] = [];
  const repeats = Math.round(count * rate);
  // Exactly `repeats` repeat positions, none first (nothing to repeat yet).
  const positions = new Set<number>();
  while (positions.size < repeats) positions.add(1 + Math.floor(random() * (count - 1)));
  for (let i = 0; i < count; i++) {
    if (positions.has(i)) stream.push(stream[Math.floor(random() * stream.length)]!);
    else {
      const next = fresh.shift();
      if (next === undefined) throw new Error('not enough fresh sentences for the stream');
      stream.push(next);
    }
  }
  return stream;
}

interface Answer { ms: number; cache: string | null }

async function classify(url: string, text: string): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: text }) });
  if (res.status !== 200) throw new Error(`classify answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
  return { ms: performance.now() - started, cache: res.headers.get('x-cache') };
}

/** The block's texts sent with `inFlight` requests at a time; each answer's latency and X-Cache. */
async function sendBlock(url: string, texts: string[], inFlight: number): Promise<{ answers: Answer[]; seconds: number }> {
  const answers: Answer[] = new Array(texts.length);
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < texts.length) {
      const i = next++;
      answers[i] = await classify(url, texts[i]!);
    }
  }));
  return { answers, seconds: (performance.now() - started) / 1000 };
}

interface Arm { name: string; server: ServerProcess; answers: Answer[]; seconds: number }

/** The stream in blocks, each block to every arm in turn (the order alternating), so that drift falls on all alike. */
async function alternate(arms: Arm[], stream: string[], block: number, inFlight: number): Promise<void> {
  for (const arm of arms) Object.assign(arm, { answers: [], seconds: 0 });
  for (let b = 0, at = 0; at < stream.length; b++, at += block) {
    const texts = stream.slice(at, at + block);
    const order = b % 2 === 0 ? arms : [...arms].reverse();
    for (const arm of order) {
      const { answers, seconds } = await sendBlock(arm.server.url, texts, inFlight);
      arm.answers.push(...answers);
      arm.seconds += seconds;
    }
  }
}

const p = (answers: Answer[], q: number) => percentile(answers.map((a) => a.ms), q);
const mean = (answers: Answer[]) => answers.reduce((sum, a) => sum + a.ms, 0) / answers.length;
const hitShare = (answers: Answer[]) => answers.filter((a) => a.cache === 'hit').length / answers.length;

interface Measured {
  engine: string;
  requests: number;
  loadRequests: number;
  seq: { off: { p50: number; p99: number; mean: number }; on: { p50: number; p99: number; mean: number; hits: number }; hitP50: number; missP50: number };
  rps: { off: number; on: number; hits: number; onP50: number; offP50: number };
}

/** One pair of servers (cache off, on) on one engine, both streams through them. */
async function measure(backend: string, fresh: string[], sequential: string[], load: string[]): Promise<Measured> {
  const arms: Arm[] = [];
  try {
    for (const [name, mode] of [['cache off', 'off'], ['cache on', 'on']] as const) {
      arms.push({ name, server: await startServerProcess('functions/node/server.ts', { ORT_BACKEND: backend, CLASSIFY_CACHE: mode }), answers: [], seconds: 0 });
    }
    const engine = ((await (await fetch(`${arms[0]!.server.url}/v1/models/sentiment`)).json()) as { engine?: string }).engine ?? backend;
    // Warm both (JIT, connections) on sentences the streams never send.
    await alternate(arms, fresh.slice(-100), 50, 1);
    await alternate(arms, sequential, SEQUENTIAL_BLOCK, 1);
    const [off, on] = arms as [Arm, Arm];
    const seq = {
      off: { p50: p(off.answers, 50), p99: p(off.answers, 99), mean: mean(off.answers) },
      on: { p50: p(on.answers, 50), p99: p(on.answers, 99), mean: mean(on.answers), hits: hitShare(on.answers) },
      hitP50: p(on.answers.filter((a) => a.cache === 'hit'), 50),
      missP50: p(on.answers.filter((a) => a.cache === 'miss'), 50),
    };
    await alternate(arms, load, LOAD_BLOCK, concurrency);
    const rps = { off: load.length / off.seconds, on: load.length / on.seconds, hits: hitShare(on.answers), onP50: p(on.answers, 50), offP50: p(off.answers, 50) };
    console.log(`${engine}: sequential p50 ${ms(seq.off.p50)} -> ${ms(seq.on.p50)} ms, c=${concurrency} ${rps.off.toFixed(0)} -> ${rps.on.toFixed(0)} req/s`);
    return { engine, requests: sequential.length, loadRequests: load.length, seq, rps };
  } finally {
    await Promise.all(arms.map((arm) => arm.server.stop()));
  }
}

async function main(): Promise<void> {
  const train = (await readLabelledTsv(resolve(sst2Dir, 'train.tsv'))).map((row) => row.text);
  // Distinct sentences only, so a fresh one is never a repeat in disguise; the last 100 warm the servers.
  const fresh = [...new Set(train)];
  const random = prng(20261208);
  const sequential = requestStream(fresh, sequentialCount, repeatRate, random);
  const load = requestStream(fresh, loadCount, repeatRate, random);
  const results: Measured[] = [];
  for (const backend of backends) results.push(await measure(backend, fresh, sequential, load));

  const r = (x: number) => `${x.toFixed(2)}x`;
  const rows = results.flatMap(({ engine, requests, loadRequests, seq, rps }) => [
    `| ${engine} | sequential p50 (ms), ${requests} requests | ${ms(seq.off.p50)} | ${ms(seq.on.p50)} | ${r(seq.on.p50 / seq.off.p50)} |`,
    `| ${engine} | sequential mean (ms) | ${ms(seq.off.mean)} | ${ms(seq.on.mean)} | ${r(seq.on.mean / seq.off.mean)} |`,
    `| ${engine} | sequential p99 (ms) | ${ms(seq.off.p99)} | ${ms(seq.on.p99)} | ${r(seq.on.p99 / seq.off.p99)} |`,
    `| ${engine} | c=${concurrency} requests/s, ${loadRequests} requests | ${rps.off.toFixed(0)} | ${rps.on.toFixed(0)} | ${r(rps.on / rps.off)} |`,
    `| ${engine} | c=${concurrency} p50 (ms) | ${ms(rps.offP50)} | ${ms(rps.onP50)} | ${r(rps.onP50 / rps.offP50)} |`,
  ]);
  const notes = results.map(({ engine, seq, rps }) => `${engine}: hits ${(seq.on.hits * 100).toFixed(1)} % sequential, ${(rps.hits * 100).toFixed(1)} % at c=${concurrency} `
    + `(a repeat in flight beside its first ask misses); a hit's p50 ${ms(seq.hitP50)} ms, a miss's ${ms(seq.missP50)} ms against ${ms(seq.off.p50)} ms uncached.`);
  const table = [
    `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench:cache\` (npm start, billing off), ${Math.round(repeatRate * 100)} % of requests repeating an earlier text, one SST-2 train sentence per request; `
      + 'each pair of servers (cache off, cache on) ran at once and got the same stream in alternating blocks. The machine was shared with a model-training run: read the ratios, not the absolute numbers.',
    '',
    '| engine | | cache off | cache on | on / off |',
    '| --- | --- | ---: | ---: | ---: |',
    ...rows,
    '',
    ...notes.map((n) => `- ${n}`),
  ].join('\n');
  console.log(table);
  if (process.env.BENCH_WRITE !== 'off') await writeResultsSection('cache', 'Classification cache (`npm run bench:cache`)', table);
}

await main();
