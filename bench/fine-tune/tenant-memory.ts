/**
 * Target 3: what a tenant model adds to the server's memory when the shared encoder serves it. Twenty-one small jobs
 * (40 SST-2 train rows each) make the models; then each round starts a fresh server on the same SQLite file (so no
 * training is in its memory), warms it up on the default model and on one tenant model (the shared encoder's
 * buffers, the head path's code), and reads its memory after full collections, before and after either one
 * classification with each of the 20 other tenant models (tenant round) or 20 more with the warm-up tenant model
 * (control round: the same requests through the same encoder, no new model). Tenant minus control is the models.
 */
import type OpenAI from 'openai';
import type { LabelledText } from '../../functions/tuning/trainer/trainer.js';
import { sequentialLatency } from '../classify/http-load.js';
import { classify, createJob, uploadRows, waitForJob } from './api.js';
import type { BenchServer } from './server.js';

export const TENANT_MODELS = 20;
export const ROWS_PER_MODEL = 40;
const WARM_UP_REQUESTS = 50;

export interface Memory {
  /** MB: RSS, its anonymous part, and V8 heap used + external (ArrayBuffers). */
  rss: number;
  rssAnon: number;
  heap: number;
}

export interface MemoryRound {
  kind: 'tenant' | 'control';
  before: Memory;
  after: Memory;
}

export interface TenantMemory {
  rounds: MemoryRound[];
  /**
   * MB per model: the largest increase of the tenant rounds minus the largest of the control rounds, over 20. What
   * V8 or the allocator gives back mid-round only lowers a round's figure, so the largest is the least disturbed.
   */
  perModel: Memory;
}

/** A tenant may have 5 jobs queued or running (FINE_TUNING_MAX_ACTIVE_JOBS' default): stay under it. */
const ACTIVE_JOBS = 4;

/** The warm-up model first, then the twenty measured ones; trained on disjoint rows (seeded jobs, 4 queued at a time). */
export async function trainSmallModels(client: OpenAI, rows: LabelledText[], seed: number): Promise<string[]> {
  const count = TENANT_MODELS + 1;
  if (rows.length < count * ROWS_PER_MODEL) throw new RangeError(`need ${count * ROWS_PER_MODEL} rows`);
  const names = new Array<string>(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const fileId = await uploadRows(client, rows.slice(i * ROWS_PER_MODEL, (i + 1) * ROWS_PER_MODEL));
      const job = await createJob(client, fileId, seed + i, `mem${i}`);
      names[i] = (await waitForJob(client, job.id)).fine_tuned_model!;
    }
  };
  await Promise.all(Array.from({ length: ACTIVE_JOBS }, worker));
  return names;
}

const SETTLE_READS = 3;
const SETTLE_MB = 0.5;
const SETTLE_LIMIT_READS = 30;

/**
 * Memory after full collections (gc-on-signal.mjs), read every 2 s until three reads in a row agree within 0.5 MB
 * (at most 30 reads). One collection is not enough: V8 gives back the warm-up's committed heap (30 MB here) a few
 * seconds after the collections that emptied it, and other memory (10+ MB) at moments of its own.
 */
async function collectedMemory(server: BenchServer): Promise<Memory> {
  const reads: Memory[] = [];
  for (let i = 0; i < SETTLE_LIMIT_READS; i++) {
    const { rss, rssAnon, heapUsed, external } = await server.memoryAfterGc();
    reads.push({ rss, rssAnon, heap: heapUsed + external });
    const last = reads.slice(-SETTLE_READS).map((m) => m.rss);
    if (last.length === SETTLE_READS && Math.max(...last) - Math.min(...last) < SETTLE_MB) break;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  return reads.at(-1)!;
}

async function classifyOnce(server: BenchServer, model: string, sentence: string): Promise<void> {
  const answer = await classify(server.url, model, [sentence]);
  if (answer.status !== 200) throw new Error(`classify with ${model} answered ${answer.status}`);
}

async function memoryRound(start: () => Promise<BenchServer>, kind: MemoryRound['kind'], [warm, ...models]: string[], sentences: string[]): Promise<MemoryRound> {
  const server = await start();
  try {
    await sequentialLatency(server.url, sentences, 200);
    for (let i = 0; i < WARM_UP_REQUESTS; i++) await classifyOnce(server, warm!, sentences[i % sentences.length]!);
    // The first requests after the collections settle still set off a release of 30-40 MB (measured in both kinds
    // of round alike): a round of the control's requests first, so that release lands before the "before" read.
    await collectedMemory(server);
    for (let i = 0; i < models.length; i++) await classifyOnce(server, warm!, sentences[i % sentences.length]!);
    const before = await collectedMemory(server);
    for (const [i, model] of models.entries()) await classifyOnce(server, kind === 'tenant' ? model : warm!, sentences[i % sentences.length]!);
    return { kind, before, after: await collectedMemory(server) };
  } finally {
    await server.stop();
  }
}

/** `rounds` of each kind on fresh server processes, taking turns. */
export async function tenantMemory(start: () => Promise<BenchServer>, models: string[], sentences: string[], rounds = 3): Promise<TenantMemory> {
  const done: MemoryRound[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const kind of ['tenant', 'control'] as const) {
      const result = await memoryRound(start, kind, models, sentences);
      console.log(`memory, ${kind} round ${round + 1}: RSS ${result.before.rss.toFixed(1)} -> ${result.after.rss.toFixed(1)} MB, heap + external ${result.before.heap.toFixed(2)} -> ${result.after.heap.toFixed(2)} MB`);
      done.push(result);
    }
  }
  const perModel = (of: keyof Memory) => {
    const increase = (kind: MemoryRound['kind']) => Math.max(...done.filter((r) => r.kind === kind).map((r) => r.after[of] - r.before[of]));
    return (increase('tenant') - increase('control')) / TENANT_MODELS;
  };
  return { rounds: done, perModel: { rss: perModel('rss'), rssAnon: perModel('rssAnon'), heap: perModel('heap') } };
}
