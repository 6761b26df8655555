/**
 * Latency of one SST-2 dev sentence per request over HTTP on 127.0.0.1, each round of requests interleaved (the
 * first to go rotating) so the machine's noise falls on each:
 * - explained against plain, on this checkout's server;
 * - plain on this checkout's server against plain on a server of the commit before explanations (explain off must
 *   cost nothing), with a second server of this checkout in the rotation: two identical servers' difference is the
 *   noise that comparison has to clear.
 * Servers are `functions/node/server.ts` child processes on port 0 (billing, generation and fine-tuning off); the
 * plain-only comparison gets fresh ones, since a server that had served explanations answered plain requests ~15 %
 * faster on WASM than a fresh one beside it (seen in development runs).
 */
import { sharedDir } from '../../functions/node/shared-paths.js';
import type { OrtBackend } from '../../functions/node/load-classifier.js';
import { startServerProcess, type ServerProcess } from '../common/processes.js';
import { percentile } from '../common/stats.js';
import { classifyClient, type Classify } from './keep-alive-client.js';

export interface Percentiles {
  p50: number;
  p99: number;
}

export interface BackendLatency {
  backend: OrtBackend;
  /** Rounds of the explained / plain series, and of the plain-only one. */
  requests: number;
  plainOnlyRequests: number;
  plain: Percentiles;
  explained: Percentiles;
  /** p50 of the server's tokenize + inference time (Server-Timing), plain and explained. */
  modelP50: { plain: number; explained: number };
  /** Mean words explained per explained request (each is one more text the model reads). */
  meanWords: number;
  /** Per trio of fresh servers, plain requests to this checkout's, a second of it (A/A), and the commit before the feature's. */
  trios: PlainTrio[];
}

export interface PlainTrio {
  this: Percentiles;
  again: Percentiles;
  before: Percentiles;
}

/** Rounds before the timed ones (the JIT, onnxruntime's first runs). */
const WARM_UP = 100;
/** `n` sentences, going round `sentences` again as often as needed. */
const cycled = (sentences: string[], n: number) => Array.from({ length: n }, (_, i) => sentences[i % sentences.length]!);
const summary = (times: number[]): Percentiles => ({ p50: percentile(times, 50), p99: percentile(times, 99) });

/** Runs each of `runs` once per sentence, the first to go rotating (a, b, c; b, c, a; ...); the times of each. */
async function interleaved(sentences: string[], runs: ((s: string) => Promise<number>)[]): Promise<number[][]> {
  const times = runs.map(() => [] as number[]);
  for (const [i, sentence] of sentences.entries()) {
    for (let j = 0; j < runs.length; j++) {
      const k = (i + j) % runs.length;
      times[k]!.push(await runs[k]!(sentence));
    }
  }
  return times;
}

function server(backend: OrtBackend, cwd?: string): Promise<ServerProcess> {
  // SHARED_DIR: the other tree is not beside ../shared.
  return startServerProcess('functions/node/server.ts', { ORT_BACKEND: backend, FINE_TUNING: 'off', SHARED_DIR: sharedDir }, undefined, { cwd });
}

export interface LatencySentences {
  /** One round (plain, explained) each. */
  explained: string[];
  /** One round (this, this again, before) each: more of them, since that comparison looks for a few per cent. */
  plainOnly: string[];
}

/** Starts servers, runs `work` against their clients, stops them whatever happens. */
async function withServers<T>(starts: (() => Promise<ServerProcess>)[], work: (clients: Classify[]) => Promise<T>): Promise<T> {
  const started: ServerProcess[] = [];
  try {
    for (const start of starts) started.push(await start());
    return await work(started.map((s) => classifyClient(s.url)));
  } finally {
    for (const s of started) await s.stop();
  }
}

/** Explained against plain on one server: the times of each, the words explained, the model's share (Server-Timing). */
async function explainedAgainstPlain(classify: Classify, sentences: string[]) {
  const seen = { words: 0, plainModelMs: [] as number[], explainedModelMs: [] as number[] };
  // `record`: false for warm-up requests.
  const plain = (record: boolean) => async (input: string) => {
    const timed = await classify({ input });
    if (record) seen.plainModelMs.push(timed.modelMs);
    return timed.ms;
  };
  const explained = (record: boolean) => async (input: string) => {
    const { ms, modelMs, body } = await classify({ input, explain: true });
    const explanation = (JSON.parse(body) as { results: { explanation?: { words: unknown[] } }[][] }).results[0]![0]!.explanation;
    if (!explanation) throw new Error(`no explanation for "${input}"`);
    if (record) {
      seen.words += explanation.words.length;
      seen.explainedModelMs.push(modelMs);
    }
    return ms;
  };
  await interleaved(cycled(sentences, WARM_UP), [plain(false), explained(false)]);
  const [plainTimes, explainedTimes] = await interleaved(sentences, [plain(true), explained(true)]) as [number[], number[]];
  return {
    plain: summary(plainTimes), explained: summary(explainedTimes), meanWords: seen.words / sentences.length,
    modelP50: { plain: percentile(seen.plainModelMs, 50), explained: percentile(seen.explainedModelMs, 50) },
  };
}

/** Plain requests over fresh servers with the same history, so that none is warmer for having served explanations. */
async function plainOnly(clients: Classify[], sentences: string[]): Promise<Percentiles[]> {
  const runs = clients.map((classify) => async (input: string) => (await classify({ input })).ms);
  await interleaved(cycled(sentences, WARM_UP), runs);
  return (await interleaved(sentences, runs)).map(summary);
}

/** Fresh trios of servers, one after another: a process keeps its own speed (placement, JIT) for its lifetime. */
export const TRIOS = 3;

export async function backendLatency(backend: OrtBackend, sentences: LatencySentences, beforeDir: string): Promise<BackendLatency> {
  const explainedRun = await withServers([() => server(backend)], ([classify]) => explainedAgainstPlain(classify!, sentences.explained));
  // A second server of this checkout: how far two identical servers side by side differ (the A/A control).
  const roles = [() => server(backend), () => server(backend), () => server(backend, beforeDir)];
  const trios: PlainTrio[] = [];
  for (let t = 0; t < TRIOS; t++) {
    // Each trio starts its servers in another order, so that none is always the first (or last) to load.
    const order = roles.map((_, i) => (i + t) % roles.length);
    const byOrder = await withServers(order.map((role) => roles[role]!), (clients) => plainOnly(clients, sentences.plainOnly));
    const byRole = roles.map((_, role) => byOrder[order.indexOf(role)]!);
    trios.push({ this: byRole[0]!, again: byRole[1]!, before: byRole[2]! });
  }
  return { backend, requests: sentences.explained.length, plainOnlyRequests: sentences.plainOnly.length, ...explainedRun, trios };
}
