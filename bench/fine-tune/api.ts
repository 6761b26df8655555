/**
 * What a user does, through the official openai client where OpenAI has the endpoint (files, fine-tuning jobs) and
 * plain fetch for ours (/v1/classify): upload rows, train, poll, classify in batches.
 */
import OpenAI, { toFile } from 'openai';
import type { FineTuningJob } from 'openai/resources/fine-tuning/jobs/jobs';
import type { LabelledText } from '../../functions/tuning/trainer/trainer.js';

/** The registry's fine-tunable encoder. */
export const BASE_MODEL = 'electra-imdb-small';
const POLL_MS = 200;
const CLASSIFY_BATCH = 64;

export const openaiClient = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'open-mode', maxRetries: 0, timeout: 600_000 });

export const jsonLines = (rows: LabelledText[]): string => rows.map((row) => JSON.stringify({ text: row.text, label: row.label })).join('\n') + '\n';

export async function uploadRows(client: OpenAI, rows: LabelledText[], filename = 'train.jsonl'): Promise<string> {
  const file = await client.files.create({ file: await toFile(Buffer.from(jsonLines(rows)), filename), purpose: 'fine-tune' });
  return file.id;
}

export async function createJob(client: OpenAI, trainingFile: string, seed: number, suffix: string): Promise<FineTuningJob> {
  return client.fineTuning.jobs.create({ model: BASE_MODEL, training_file: trainingFile, seed, suffix });
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

/** Polls until the job finishes; throws unless it succeeded. */
export async function waitForJob(client: OpenAI, id: string, onPoll?: (job: FineTuningJob) => void): Promise<FineTuningJob> {
  for (;;) {
    const job = await client.fineTuning.jobs.retrieve(id);
    onPoll?.(job);
    if (FINISHED.has(job.status)) {
      if (job.status !== 'succeeded' || !job.fine_tuned_model) throw new Error(`job ${id} ended ${job.status}: ${JSON.stringify(job.error)}`);
      return job;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export interface ClassifyAnswer {
  status: number;
  labels: string[];
}

/** One POST /v1/classify (model undefined: the registry's default); the best label per text. */
export async function classify(url: string, model: string | undefined, texts: string[]): Promise<ClassifyAnswer> {
  const body = JSON.stringify(model === undefined ? { input: texts } : { model, input: texts });
  const res = await fetch(`${url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (!res.ok) return { status: res.status, labels: [] };
  const answer = (await res.json()) as { results: { label: string }[][] };
  return { status: res.status, labels: answer.results.map((scores) => scores[0]!.label) };
}

/** Every text's best label, in batches of the base model's max_batch. */
export async function classifyAll(url: string, model: string, texts: string[]): Promise<string[]> {
  const labels: string[] = [];
  for (let start = 0; start < texts.length; start += CLASSIFY_BATCH) {
    const answer = await classify(url, model, texts.slice(start, start + CLASSIFY_BATCH));
    if (answer.status !== 200) throw new Error(`classify with ${model} answered ${answer.status}`);
    labels.push(...answer.labels);
  }
  return labels;
}

/** Upload, train with the job's "auto" hyperparameters, and the fine-tuned model's name once it succeeded. */
export async function fineTune(client: OpenAI, rows: LabelledText[], seed: number, suffix: string): Promise<FineTuningJob> {
  const fileId = await uploadRows(client, rows);
  const job = await createJob(client, fileId, seed, suffix);
  return waitForJob(client, job.id);
}
