/**
 * bench/classify: one SST-2 sentence per request over HTTP on 127.0.0.1, edge-maas against its peers in one run:
 * (a) a minimal Hono route around transformers.js' pipeline, (b) raw session.run on onnxruntime-web and -node.
 * Prints the tables and writes them into bench/RESULTS.md. BENCH_SECONDS sets each load run's length (default 10),
 * BENCH_REQUESTS the sequential requests for latency (default 500): `BENCH_SECONDS=1 BENCH_REQUESTS=100` is a quick check.
 * edge-maas runs as `npm start` does (onnxruntime-node, its default) and with ORT_BACKEND=wasm (what the edge runs).
 * Usage: npm run bench:classify
 */
import { cpus } from 'node:os';
import { loadRun, sequentialLatency, type LoadResult } from './http-load.js';
import { startServerProcess } from '../common/processes.js';
import { rawSession } from './raw-session.js';
import { devSentences } from './sentences.js';
import { writeResultsSection } from '../common/results.js';
import { ms } from '../common/stats.js';
import { workerBundleSize, workerdFirstRequest } from './workerd.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const latencyRequests = Number(process.env.BENCH_REQUESTS ?? 500);
const concurrencies = [1, 16, 64];

interface ServerRow {
  name: string;
  p50: number;
  p99: number;
  load: LoadResult[];
  coldStartMs: number;
  peakRssMb: number;
}

/** engine: what edge-maas must say it serves on (GET /v1/models), so that a row never measures a fallback. */
async function benchServer(name: string, script: string, env: Record<string, string>, sentences: string[], engine?: string): Promise<ServerRow> {
  const server = await startServerProcess(script, env);
  try {
    const serving = engine && ((await (await fetch(`${server.url}/v1/models/sentiment`)).json()) as { engine?: string }).engine;
    if (serving !== engine) throw new Error(`${name}: the server serves on ${serving}, not ${engine}`);
    await sequentialLatency(server.url, sentences, 50); // warm the connection and the JIT
    const { p50, p99 } = await sequentialLatency(server.url, sentences, latencyRequests);
    const load: LoadResult[] = [];
    for (const c of concurrencies) load.push(await loadRun(server.url, sentences, c, seconds));
    const row = { name, p50, p99, load, coldStartMs: server.coldStartMs, peakRssMb: await server.peakRssMb() };
    console.log(`${name}: p50 ${ms(p50)} ms, p99 ${ms(p99)} ms, ${load.map((l, i) => `c=${concurrencies[i]} ${l.requestsPerSecond.toFixed(0)}/s`).join(', ')}`);
    return row;
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const sentences = await devSentences(872);
  const ours = 'functions/node/server.ts';
  const servers: ServerRow[] = [];
  // ORT_BACKEND: '' is npm start's default (onnxruntime-node), whatever the calling shell has set.
  servers.push(await benchServer('edge-maas, WASM, batching on', ours, { ORT_BACKEND: 'wasm' }, sentences, 'onnxruntime-web'));
  servers.push(await benchServer('edge-maas, WASM, batching off', ours, { ORT_BACKEND: 'wasm', MICRO_BATCHING: 'off' }, sentences, 'onnxruntime-web'));
  servers.push(await benchServer('edge-maas, onnxruntime-node (the default), batching on', ours, { ORT_BACKEND: '' }, sentences, 'onnxruntime-node'));
  servers.push(await benchServer('Hono + transformers.js pipeline', 'bench/classify/pipeline-server.ts', {}, sentences));
  const rawWeb = await rawSession('wasm', sentences, latencyRequests);
  const rawNode = await rawSession('node', sentences, latencyRequests);
  const bundle = await workerBundleSize();
  const workerd = await workerdFirstRequest(sentences[0]!);

  const [wasmOn, wasmOff, nodeOn, pipelineRoute] = servers as [ServerRow, ServerRow, ServerRow, ServerRow];
  const c64 = (row: ServerRow) => row.load[concurrencies.indexOf(64)]!.requestsPerSecond;
  const failed = servers.reduce((sum, s) => sum + s.load.reduce((n, l) => n + l.failed, 0), 0);
  const lines = [
    `Run ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), Node ${process.version}; `
      + `${latencyRequests} sequential requests for latency, ${seconds} s autocannon runs; SST-2 dev sentences, one per request; int8 model.`,
    '',
    '| Path | p50 ms | p99 ms |',
    '|---|---:|---:|',
    `| raw session.run, onnxruntime-web (WASM), no HTTP | ${ms(rawWeb.runP50)} | ${ms(rawWeb.runP99)} |`,
    `| raw session.run, onnxruntime-node, no HTTP | ${ms(rawNode.runP50)} | ${ms(rawNode.runP99)} |`,
    ...servers.map((s) => `| HTTP: ${s.name} | ${ms(s.p50)} | ${ms(s.p99)} |`),
    '',
    `| Server | ${concurrencies.map((c) => `req/s c=${c}`).join(' | ')} | p99 ms c=64 | failed | cold start ms | peak RSS MB |`,
    `|---|${concurrencies.map(() => '---:').join('|')}|---:|---:|---:|---:|`,
    ...servers.map((s) => `| ${s.name} | ${s.load.map((l) => l.requestsPerSecond.toFixed(0)).join(' | ')} | ${ms(s.load[2]!.p99)} | ${s.load.reduce((n, l) => n + l.failed, 0)} | ${s.coldStartMs.toFixed(0)} | ${s.peakRssMb.toFixed(0)} |`),
    `| limit: raw session.run, batches of 64, WASM / node (sentences/s) | ${rawWeb.batched64PerSecond.toFixed(0)} / ${rawNode.batched64PerSecond.toFixed(0)} | | | | | | |`,
    '',
    'Against the targets:',
    `- HTTP p50 minus raw session.run p50 (WASM): ${ms(wasmOn.p50 - rawWeb.runP50)} ms (target ≤ 1 ms); onnxruntime-node: ${ms(nodeOn.p50 - rawNode.runP50)} ms.`,
    `- transformers.js pipeline route p50 / edge-maas p50: ${(pipelineRoute.p50 / wasmOn.p50).toFixed(2)}x (target ≥ 1.5x).`,
    `- WASM / native session.run p50: ${(rawWeb.runP50 / rawNode.runP50).toFixed(2)}x.`,
    `- Throughput at c=64, batching on / off: ${(c64(wasmOn) / c64(wasmOff)).toFixed(2)}x (target ≥ 2x).`,
    `- Cold start, process spawn to first classification (includes tsx compiling TypeScript): WASM ${wasmOn.coldStartMs.toFixed(0)} ms, onnxruntime-node ${nodeOn.coldStartMs.toFixed(0)} ms (target ≤ 500 ms).`,
    `- workerd (wrangler dev): first request ${workerd.firstMs.toFixed(0)} ms (models load on it; target ≤ 1 s), second ${workerd.secondMs.toFixed(1)} ms.`,
    `- Peak RSS after all load runs: the default (onnxruntime-node) ${nodeOn.peakRssMb.toFixed(0)} MB (target ≤ 200 MB), WASM ${wasmOn.peakRssMb.toFixed(0)} MB.`,
    `- Worker bundle (wrangler deploy --dry-run): ${bundle.rawMiB.toFixed(2)} MiB raw, ${bundle.gzipMiB.toFixed(2)} MiB gzip (limit 64 MiB).`,
    `- Failed requests over all load runs: ${failed}.`,
  ];
  const table = lines.join('\n');
  console.log(`\n${table}`);
  await writeResultsSection('classify', 'Classification over HTTP: `npm run bench:classify`', table);
  if (failed > 0) process.exitCode = 1;
}

await main();
