/**
 * What fine-tuning stores: training files, jobs with their events, and the tenant models that succeeded jobs make.
 * Times are unix seconds (OpenAI's created_at). Every record belongs to one tenant; open mode's is OPEN_TENANT.
 */
export { OPEN_TENANT } from '../http/request-context.js';

export type FilePurpose = 'fine-tune' | 'fine-tune-results';

export interface StoredFile {
  /** "file-" + 24 random base-36 characters. */
  id: string;
  tenantId: string;
  filename: string;
  purpose: FilePurpose;
  bytes: number;
  createdAt: number;
  /** fine-tune files: what upload validation found (rows, distinct labels in first-seen order). */
  rows: number | null;
  labels: string[] | null;
}

export type JobStatus = 'validating_files' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const FINISHED: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];
/** A job that holds its tenant's place: what the per-tenant cap of active jobs counts. */
export const ACTIVE: readonly JobStatus[] = ['validating_files', 'queued', 'running'];

export interface Hyperparameters {
  nEpochs: number;
  batchSize: number;
  learningRateMultiplier: number;
}

export interface JobError {
  code: string;
  message: string;
  param: string | null;
}

export interface LabelMetrics {
  label: string;
  precision: number;
  recall: number;
  /** Hold-out rows with this label. */
  support: number;
}

/** What a succeeded job measured on its hold-out (the validation file, or a seeded split of the training file). */
export interface TrainingResult {
  labels: string[];
  trainRows: number;
  holdoutRows: number;
  holdoutAccuracy: number;
  perLabel: LabelMetrics[];
  /** Always answering the most frequent training label: the floor a model must beat. */
  majorityBaseline: { label: string; accuracy: number };
  /**
   * holdoutAccuracy < majorityBaseline.accuracy: the model does worse than that floor (the job still succeeds, with
   * a warn event). Set by the job service when it records the result; absent on what the trainer returns.
   */
  belowMajorityBaseline?: boolean;
  trainedTokens: number;
  epochs: number;
  steps: number;
  featureMs: number;
  trainingMs: number;
}

export interface JobRecord {
  /** "ftjob-" + 24 random base-36 characters. */
  id: string;
  tenantId: string;
  /** The key that created it (billing's), null in open mode. */
  keyId: string | null;
  /** The base model, id@version. */
  model: string;
  trainingFile: string;
  validationFile: string | null;
  hyperparameters: Hyperparameters;
  suffix: string | null;
  seed: number;
  status: JobStatus;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  estimatedFinish: number | null;
  error: JobError | null;
  fineTunedModel: string | null;
  /** Tokens of the training rows times epochs (OpenAI's definition): the estimate until the job ends, then what was billed (0 for a failed job). */
  trainedTokens: number | null;
  result: TrainingResult | null;
  resultFiles: string[];
  /** Runs started (a restart re-queues a running job once, then fails it). */
  attempts: number;
  /** The usage record that bills the training; its budget hold has the same id. */
  usageId: string;
}

export type EventLevel = 'info' | 'warn' | 'error';

export interface JobEvent {
  /** "ftevent-" + 24 random base-36 characters. */
  id: string;
  jobId: string;
  /** Order within the job, from 1: SSE ids and `after` cursors. */
  seq: number;
  createdAt: number;
  level: EventLevel;
  type: 'message' | 'metrics';
  message: string;
  data: Record<string, unknown> | null;
}

export interface TenantModelRecord {
  /** ft:<base id>:<tenant>:<suffix>:<job id> */
  name: string;
  tenantId: string;
  jobId: string;
  /** The base encoder, id@version: its features are what the head was trained on. */
  base: string;
  labels: string[];
  /** The head (trainer/classifier-head.ts encodes it). */
  head: Uint8Array;
  createdAt: number;
}
