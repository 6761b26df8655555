/**
 * Target 3: what a tenant model adds to the server's memory when the shared encoder serves it. Twenty small jobs
 * (40 SST-2 train rows each) make twenty models; then the server restarts on the same SQLite file, so the RSS read
 * holds no training, warms up on the default model, and is read before and after one classification with each
 * tenant model. The first one also runs the shared encoder for the first time in that process (its buffers), so the
 * per-model figure is given both ways: (20 - 0) / 20, and the marginal (20 - 1) / 19.
 */
import type OpenAI from 'openai';
import type { LabelledText } from '../../functions/tuning/trainer/trainer.js';
import { sequentialLatency } from '../classify/http-load.js';
import { classify, createJob, uploadRows, waitForJob } from './api.js';
import type { BenchServer } from './server.js';

export const TENANT_MODELS = 20;
const ROWS_PER_MODEL = 40;

export interface TenantMemory {
  rss0: number;
  rss1: number;
  rss20: number;
  perModel: number;
  marginalPerModel: number;
}

/** The twenty models' names, trained on disjoint rows (seeded jobs, queued together). */
export async function trainSmallModels(client: OpenAI, rows: LabelledText[], seed: number): Promise<string[]> {
  if (rows.length < TENANT_MODELS * ROWS_PER_MODEL) throw new RangeError(`need ${TENANT_MODELS * ROWS_PER_MODEL} rows`);
  const jobs = [];
  for (let i = 0; i < TENANT_MODELS; i++) {
    const fileId = await uploadRows(client, rows.slice(i * ROWS_PER_MODEL, (i + 1) * ROWS_PER_MODEL));
    jobs.push(await createJob(client, fileId, seed + i, `mem${i}`));
  }
  const names: string[] = [];
  for (const job of jobs) names.push((await waitForJob(client, job.id)).fine_tuned_model!);
  return names;
}

/** The median of five reads 200 ms apart: one read can land mid-allocation. */
async function settledRss(server: BenchServer): Promise<number> {
  const reads: number[] = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    reads.push(await server.rssMb());
  }
  return reads.sort((a, b) => a - b)[2]!;
}

export async function tenantMemory(server: BenchServer, models: string[], sentences: string[]): Promise<TenantMemory> {
  await sequentialLatency(server.url, sentences, 200);
  const rss0 = await settledRss(server);
  const once = async (model: string) => {
    const answer = await classify(server.url, model, [sentences[0]!]);
    if (answer.status !== 200) throw new Error(`classify with ${model} answered ${answer.status}`);
  };
  await once(models[0]!);
  const rss1 = await settledRss(server);
  for (const model of models.slice(1)) await once(model);
  const rss20 = await settledRss(server);
  return { rss0, rss1, rss20, perModel: (rss20 - rss0) / models.length, marginalPerModel: (rss20 - rss1) / (models.length - 1) };
}
