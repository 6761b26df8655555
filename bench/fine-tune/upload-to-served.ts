/**
 * Target 1: upload of 1,000 labelled rows -> job succeeded -> the first 200 from /v1/classify with the new model,
 * each phase timed on the client's clock. The job's own result splits its run into the encoder reading the texts
 * (feature_ms) and the head training (training_ms); the rest of "job" is validation, queueing and polling (200 ms).
 */
import type OpenAI from 'openai';
import type { LabelledText } from '../../functions/tuning/trainer/trainer.js';
import { classify, createJob, uploadRows, waitForJob } from './api.js';

export interface UploadToServed {
  uploadS: number;
  createS: number;
  /** Create answered -> the poll that saw succeeded. */
  jobS: number;
  featureS: number;
  trainingS: number;
  /** Succeeded -> the first 200 from /v1/classify with the fine-tuned model. */
  firstClassifyS: number;
  totalS: number;
  model: string;
  holdoutAccuracy: number | null;
}

const seconds = (from: number, to: number) => (to - from) / 1000;

export async function uploadToServed(url: string, client: OpenAI, rows: LabelledText[], seed: number, suffix: string): Promise<UploadToServed> {
  const t0 = performance.now();
  const fileId = await uploadRows(client, rows);
  const uploaded = performance.now();
  const created = await createJob(client, fileId, seed, suffix);
  const createdAt = performance.now();
  const job = await waitForJob(client, created.id);
  const succeeded = performance.now();
  const model = job.fine_tuned_model!;
  for (;;) {
    const answer = await classify(url, model, ['a gorgeous, witty, seductive movie']);
    if (answer.status === 200) break;
    if (answer.status !== 409 && answer.status !== 404) throw new Error(`classify with ${model} answered ${answer.status}`);
  }
  const served = performance.now();
  const result = (job as unknown as { result: { feature_ms: number; training_ms: number; holdout_accuracy: number } | null }).result;
  return {
    uploadS: seconds(t0, uploaded),
    createS: seconds(uploaded, createdAt),
    jobS: seconds(createdAt, succeeded),
    featureS: (result?.feature_ms ?? Number.NaN) / 1000,
    trainingS: (result?.training_ms ?? Number.NaN) / 1000,
    firstClassifyS: seconds(succeeded, served),
    totalS: seconds(t0, served),
    model,
    holdoutAccuracy: result?.holdout_accuracy ?? null,
  };
}
