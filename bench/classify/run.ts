/**
 * bench/classify: one SST-2 sentence per request over HTTP on 127.0.0.1, edge-maas against its peers in one run:
 * (a) a minimal Hono route around transformers.js' pipeline (on int8 sst2-bert@3, the model it can load), (b) raw
 * session.run on onnxruntime-web and -node, for the default model (the GloVe BiLSTM) and sst2-bert@3; then
 * micro-batching on against off at c=64, interleaved (batching-ab.ts), per model and backend.
 * Prints the tables and writes them into bench/RESULTS.md. BENCH_SECONDS sets each load run's length (default 10),
 * BENCH_REQUESTS the sequential requests for latency (default 500), BENCH_AB_ROUNDS and BENCH_AB_SECONDS the
 * batching comparison (default 3 rounds of 5 s): `BENCH_SECONDS=1 BENCH_REQUESTS=100 BENCH_AB_ROUNDS=1` is a quick check.
 * edge-maas runs as `npm start` does (onnxruntime-node, its default) and with ORT_BACKEND=wasm (what the edge runs).
 * Usage: npm run bench:classify
 */
import { cpus, loadavg } from 'node:os';
import { batchingOnOff, type ArmResult } from './batching-ab.js';
import { loadRun, sequentialLatency, type LoadResult } from './http-load.js';
import { startServerProcess } from '../common/processes.js';
import { rawSession, type RawResult } from './raw-session.js';
import { bilstmDir, defaultModelDir, devSentences } from './sentences.js';
import { writeResultsSection } from '../common/results.js';
import { ms } from '../common/stats.js';
import { workerBundleSize, workerdFirstRequest } from './workerd.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const latencyRequests = Number(process.env.BENCH_REQUESTS ?? 500);
const abRounds = Number(process.env.BENCH_AB_ROUNDS ?? 3);
const abSeconds = Number(process.env.BENCH_AB_SECONDS ?? 5);
const concurrencies = [1, 16, 64];
const BERT = 'sst2-bert@3';

interface ServerRow {
  name: string;
  p50: number;
  p99: number;
  load: LoadResult[];
  coldStartMs: number;
  peakRssMb: number;
}

/** engine: what edge-maas must say it serves on (GET /v1/models), so that a row never measures a fallback. */
async function benchServer(name: string, script: string, env: Record<string, string>, sentences: string[], engine?: string, model?: string): Promise<ServerRow> {
  const server = await startServerProcess(script, env);
  try {
    const serving = engine && ((await (await fetch(`${server.url}/v1/models/sentiment`)).json()) as { engine?: string }).engine;
    if (serving !== engine) throw new Error(`${name}: the server serves on ${serving}, not ${engine}`);
    await sequentialLatency(server.url, sentences, 50, {}, model); // warm the connection and the JIT
    const { p50, p99 } = await sequentialLatency(server.url, sentences, latencyRequests, {}, model);
    const load: LoadResult[] = [];
    for (const c of concurrencies) load.push(await loadRun(server.url, sentences, c, seconds, {}, model));
    const row = { name, p50, p99, load, coldStartMs: server.coldStartMs, peakRssMb: await server.peakRssMb() };
    console.log(`${name}: p50 ${ms(p50)} ms, p99 ${ms(p99)} ms, ${load.map((l, i) => `c=${concurrencies[i]} ${l.requestsPerSecond.toFixed(0)}/s`).join(', ')}`);
    return row;
  } finally {
    await server.stop();
  }
}

interface AbRow {
  name: string;
  on: ArmResult;
  off: ArmResult;
}

async function abRow(name: string, backend: 'node' | 'wasm', model: string | undefined, sentences: string[]): Promise<AbRow> {
  const { on, off } = await batchingOnOff(backend, model, sentences, abRounds, abSeconds);
  console.log(`${name}: c=64 on ${on.requestsPerSecond.toFixed(0)}/s, off ${off.requestsPerSecond.toFixed(0)}/s; CPU ${on.cpuMsPerRequest.toFixed(3)} / ${off.cpuMsPerRequest.toFixed(3)} ms a request`);
  return { name, on, off };
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

async function main(): Promise<void> {
  const loadBefore = load();
  const sentences = await devSentences(872);
  const ours = 'functions/node/server.ts';
  const servers: ServerRow[] = [];
  // ORT_BACKEND: '' is npm start's default (onnxruntime-node), whatever the calling shell has set.
  servers.push(await benchServer('edge-maas, the default model (BiLSTM), onnxruntime-node (the default)', ours, { ORT_BACKEND: '' }, sentences, 'onnxruntime-node'));
  servers.push(await benchServer('edge-maas, the default model (BiLSTM), WASM', ours, { ORT_BACKEND: 'wasm' }, sentences, 'onnxruntime-web'));
  servers.push(await benchServer(`edge-maas, ${BERT}, onnxruntime-node`, ours, { ORT_BACKEND: '' }, sentences, 'onnxruntime-node', BERT));
  servers.push(await benchServer(`Hono + transformers.js pipeline, ${BERT} (onnxruntime-node)`, 'bench/classify/pipeline-server.ts', {}, sentences));
  const raw: [string, RawResult][] = [];
  for (const [model, dir] of [['BiLSTM', bilstmDir], [BERT, defaultModelDir]] as const) {
    for (const backend of ['wasm', 'node'] as const) raw.push([`${model}, ${backend === 'wasm' ? 'onnxruntime-web (WASM)' : 'onnxruntime-node'}`, await rawSession(backend, sentences, latencyRequests, dir)]);
  }
  const ab: AbRow[] = [
    await abRow('BiLSTM (the default), onnxruntime-node', 'node', undefined, sentences),
    await abRow('BiLSTM, WASM (one thread)', 'wasm', undefined, sentences),
    await abRow(`${BERT} (a text per session.run), onnxruntime-node`, 'node', BERT, sentences),
    await abRow(`${BERT}, WASM (one thread)`, 'wasm', BERT, sentences),
  ];
  const bundle = await workerBundleSize();
  const workerd = await workerdFirstRequest(sentences[0]!);
  const loadAfter = load();

  const [nodeOn, wasmOn, bertOn, pipelineRoute] = servers as [ServerRow, ServerRow, ServerRow, ServerRow];
  const [rawLstmWeb, rawLstmNode, , rawBertNode] = raw.map(([, r]) => r) as [RawResult, RawResult, RawResult, RawResult];
  const failed = servers.reduce((sum, s) => sum + s.load.reduce((n, l) => n + l.failed, 0), 0);
  // Shown apart: at c=64 a server with batching off may shed load with 503s (its queue's deadline), as it should.
  const abFailed = ab.reduce((n, r) => n + r.on.failed + r.off.failed, 0);
  const ratio = (r: AbRow) => r.on.requestsPerSecond / r.off.requestsPerSecond;
  const cpuRatio = (r: AbRow) => r.off.cpuMsPerRequest / r.on.cpuMsPerRequest;
  const lines = [
    `Run ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), Node ${process.version}; load average (1, 5, 15 min) ${loadBefore} before, ${loadAfter} after; `
      + `${latencyRequests} sequential requests for latency, ${seconds} s autocannon runs; SST-2 dev sentences, one per request; int8 models, one intra-op thread.`,
    '',
    '| Path | p50 ms | p99 ms |',
    '|---|---:|---:|',
    ...raw.map(([name, r]) => `| raw session.run, ${name}, no HTTP | ${ms(r.runP50)} | ${ms(r.runP99)} |`),
    ...servers.map((s) => `| HTTP: ${s.name} | ${ms(s.p50)} | ${ms(s.p99)} |`),
    '',
    `| Server (batching on) | ${concurrencies.map((c) => `req/s c=${c}`).join(' | ')} | p99 ms c=64 | failed | cold start ms | peak RSS MB |`,
    `|---|${concurrencies.map(() => '---:').join('|')}|---:|---:|---:|---:|`,
    ...servers.map((s) => `| ${s.name} | ${s.load.map((l) => l.requestsPerSecond.toFixed(0)).join(' | ')} | ${ms(s.load[2]!.p99)} | ${s.load.reduce((n, l) => n + l.failed, 0)} | ${s.coldStartMs.toFixed(0)} | ${s.peakRssMb.toFixed(0)} |`),
    `| limit: raw session.run, batches of 64 (sentences/s): ${raw.map(([name, r]) => `${name} ${r.batched64PerSecond.toFixed(0)}`).join('; ')} | | | | | | | |`,
    '',
    `Micro-batching on against off at c=64 (MICRO_BATCHING=off: batches of one), two servers taking turns, ${abRounds} rounds of ${abSeconds} s, medians; server CPU per request from /proc (every thread):`,
    '',
    '| Model, backend | req/s on | req/s off | on / off | CPU ms/request on | off | off / on | p50 ms on / off | failed on / off |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...ab.map((r) => `| ${r.name} | ${r.on.requestsPerSecond.toFixed(0)} | ${r.off.requestsPerSecond.toFixed(0)} | ${ratio(r).toFixed(2)}x | ${r.on.cpuMsPerRequest.toFixed(3)} | ${r.off.cpuMsPerRequest.toFixed(3)} | ${cpuRatio(r).toFixed(2)}x | ${r.on.p50} / ${r.off.p50} | ${r.on.failed} / ${r.off.failed} |`),
    '',
    'Against the targets:',
    `- Throughput at c=64, batching on / off, onnxruntime-node, the default BiLSTM: ${ratio(ab[0]!).toFixed(2)}x by req/s, ${cpuRatio(ab[0]!).toFixed(2)}x by server CPU per request (target ≥ 2x); ${BERT}: ${ratio(ab[2]!).toFixed(2)}x, ${cpuRatio(ab[2]!).toFixed(2)}x.`,
    `- One WASM thread, batching on / off: BiLSTM ${ratio(ab[1]!).toFixed(2)}x (${cpuRatio(ab[1]!).toFixed(2)}x by CPU); ${BERT} ${ratio(ab[3]!).toFixed(2)}x (${cpuRatio(ab[3]!).toFixed(2)}x).`,
    `- HTTP p50 minus raw session.run p50, BiLSTM: WASM ${ms(wasmOn.p50 - rawLstmWeb.runP50)} ms, onnxruntime-node ${ms(nodeOn.p50 - rawLstmNode.runP50)} ms (target ≤ 1 ms); ${BERT} onnxruntime-node ${ms(bertOn.p50 - rawBertNode.runP50)} ms.`,
    `- transformers.js pipeline route p50 / edge-maas p50, both ${BERT} on onnxruntime-node: ${(pipelineRoute.p50 / bertOn.p50).toFixed(2)}x (the WASM comparison is bench:edge-engine's).`,
    `- Cold start, process spawn to first classification (includes tsx compiling TypeScript): onnxruntime-node ${nodeOn.coldStartMs.toFixed(0)} ms, WASM ${wasmOn.coldStartMs.toFixed(0)} ms (target ≤ 500 ms: bench:cold-start measures the built JavaScript).`,
    `- workerd (wrangler dev): first request ${workerd.firstMs.toFixed(0)} ms (models load on it; target ≤ 1 s), second ${workerd.secondMs.toFixed(1)} ms.`,
    `- Peak RSS after all load runs: the default (onnxruntime-node) ${nodeOn.peakRssMb.toFixed(0)} MB (target ≤ 200 MB), WASM ${wasmOn.peakRssMb.toFixed(0)} MB.`,
    `- Worker bundle (wrangler deploy --dry-run): ${bundle.rawMiB.toFixed(2)} MiB raw, ${bundle.gzipMiB.toFixed(2)} MiB gzip (limit 64 MiB).`,
    `- Failed requests over the load runs of the first tables: ${failed}; of the batching comparison (non-2xx, e.g. 503 overloaded, and timeouts): ${abFailed}.`,
  ];
  const table = lines.join('\n');
  console.log(`\n${table}`);
  await writeResultsSection('classify', 'Classification over HTTP: `npm run bench:classify`', table);
  if (failed > 0) process.exitCode = 1;
}

await main();
