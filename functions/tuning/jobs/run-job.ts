/**
 * One run of a queued job, from the queue's signal to a finished (or re-queued) record. Every status change is a
 * compare-and-set on the job's status, so a cancel, a restart or a second process can never make a job lose an
 * outcome: whoever's set fails leaves the record to the one that won.
 *
 * How a run ends:
 * - succeeded: tenant model stored (replacing one a crashed earlier attempt stored), result file, record, usage; a
 *   warn event first when the model measured below the majority baseline (result.belowMajorityBaseline).
 * - failed: a JobError with a code and one line, usage settled at 0 and trained_tokens set to 0.
 * - cancelled (the signal's reason is JobCancelled): usage settled for the epochs that completed, each at the
 *   tokens of the rows it trains on (the trainer's split); an epoch cut short is not billed, nor is reading features.
 * - re-queued (ServiceShutdown): back to `queued` with its attempts as before the run, so a clean shutdown costs the
 *   job nothing; the budget hold stays for the next run. Only a crash (the record found `running` by start()) counts.
 */
import type { ModelEntry, Registry } from '../../registry/registry.js';
import type { TextEmbedder } from '../../engine/tasks/text-embedder.js';
import { newFileId } from '../ids.js';
import { encodeHead } from '../trainer/classifier-head.js';
import { holdoutSplit } from '../trainer/holdout-split.js';
import type { LabelledText, Trainer, TrainOutput, TrainProgress } from '../trainer/trainer.js';
import type { TrainingCharge, TrainingMeter } from '../training-meter.js';
import { parseTrainingFileInSlices, TrainingFileError, trainingFileErrorToApi, type TrainingFile } from '../training-file.js';
import type { TuningStore } from '../tuning-store.js';
import type { JobRecord, JobStatus, StoredFile, TenantModelRecord, TrainingResult } from '../tuning-types.js';
import { failureOf, JobCancelled, ServiceShutdown, type FailureCause } from './job-errors.js';
import type { JobEventLog, NewEvent } from './job-events.js';
import { ApiError } from '../../http/errors.js';
import { trainingCostMicroUsd } from './prepare-job.js';
import { isBelowMajorityBaseline, resultObject } from './result-object.js';
import { stepsOf, type TrainingRates } from './training-rates.js';

export interface RunDeps {
  store: TuningStore;
  trainer: Trainer;
  registry: Registry;
  embedderFor: (base: string) => Promise<TextEmbedder>;
  meter: TrainingMeter;
  events: JobEventLog;
  rates: TrainingRates;
  /** Unix seconds. */
  now: () => number;
  /** Milliseconds, for throttling progress events. */
  clock: () => number;
  progressIntervalMs: number;
  onModelCreated?: (model: TenantModelRecord) => void;
  /** What could not be recorded (a store or meter that failed after the outcome was decided). */
  onError: (error: unknown, jobId: string) => void;
}

/** ft:<base id>:<tenant>:<suffix>:<job id>; an empty suffix keeps its place, as OpenAI's names do. */
export const tenantModelName = (baseId: string, tenantId: string, suffix: string | null, jobId: string): string =>
  `ft:${baseId}:${tenantId}:${suffix ?? ''}:${jobId}`;

export const chargeOf = (job: JobRecord, base: Pick<ModelEntry, 'id' | 'version'>): TrainingCharge => ({
  usageId: job.usageId, jobId: job.id, tenantId: job.tenantId, keyId: job.keyId, model: { id: base.id, version: base.version },
});

/** The base as the job named it (id@version), even when the registry no longer lists it. */
export function baseOf(registry: Registry, job: JobRecord): Pick<ModelEntry, 'id' | 'version'> & { entry: ModelEntry | undefined } {
  const entry = registry.resolve(job.model);
  if (entry) return { id: entry.id, version: entry.version, entry };
  const at = job.model.lastIndexOf('@');
  return at > 0 ? { id: job.model.slice(0, at), version: job.model.slice(at + 1), entry } : { id: job.model, version: '', entry };
}

async function readFile(store: TuningStore, job: JobRecord, id: string, param: 'training_file' | 'validation_file'): Promise<TrainingFile> {
  const bytes = await store.fileBytes(job.tenantId, id);
  if (!bytes) throw new ApiError(404, `${param} ${id} was deleted before the job ran`, 'invalid_request_error', 'file_not_found', param);
  try {
    return await parseTrainingFileInSlices(bytes, param === 'validation_file' ? { minLabels: 1, minRows: 1 } : {});
  } catch (error) {
    throw error instanceof TrainingFileError ? trainingFileErrorToApi(error, param) : error;
  }
}

const sum = (values: number[]): number => values.reduce((total, n) => total + n, 0);

export async function runJob(deps: RunDeps, queued: Pick<JobRecord, 'id' | 'tenantId'>, signal: AbortSignal): Promise<void> {
  const { store, events, now } = deps;
  const job = await store.getJob(queued.tenantId, queued.id);
  if (!job || job.status !== 'queued') return;
  const base = baseOf(deps.registry, job);
  const charge = chargeOf(job, base);
  const fail = (cause: FailureCause, from: readonly JobStatus[]) => finishFailed(deps, job, charge, cause, from);

  let training: TrainingFile;
  let validation: TrainingFile | null;
  let featureTokens: number;
  let epochTokens: number;
  try {
    if (!base.entry) throw new ApiError(404, `the base model ${job.model} is no longer served here`, 'invalid_request_error', 'model_not_found', 'model');
    training = await readFile(store, job, job.trainingFile, 'training_file');
    validation = job.validationFile ? await readFile(store, job, job.validationFile, 'validation_file') : null;
    const embedder = await deps.embedderFor(job.model);
    const countOf = (rows: LabelledText[]) => sum(embedder.countTokens(rows.map((row) => row.text)));
    featureTokens = countOf(training.rows) + (validation ? countOf(validation.rows) : 0);
    // The rows each epoch trains on, as the trainer splits them: what a cancelled job's completed epochs cost.
    epochTokens = validation ? countOf(training.rows) : countOf(holdoutSplit(training.rows, job.seed).train);
  } catch (error) {
    return fail(failureOf(error), ['queued']);
  }

  const { nEpochs, batchSize } = job.hyperparameters;
  const startedAt = now();
  const estimate = deps.rates.seconds({ featureTokens, steps: stepsOf(training.rows.length, batchSize, nEpochs) });
  const running = { status: 'running' as const, startedAt, attempts: job.attempts + 1, estimatedFinish: startedAt + Math.ceil(estimate) };
  if (!(await store.updateJob(job.id, ['queued'], running))) return; // cancelled while it waited for its turn
  await events.add(job.id, 'running', { message: 'Fine-tuning job started' });

  const progress = new ProgressEvents(deps, job, nEpochs);
  let output: TrainOutput | undefined;
  let thrown: unknown;
  const trainStarted = deps.clock();
  try {
    signal.throwIfAborted();
    output = await deps.trainer.train(
      { base: job.model, rows: training.rows, validation: validation?.rows ?? null, labels: training.labels, hyperparameters: job.hyperparameters, seed: job.seed },
      { signal, onProgress: (p) => progress.report(p) },
    );
  } catch (error) {
    thrown = error;
  }
  await progress.flushed();

  if (signal.aborted && signal.reason instanceof JobCancelled) return finishCancelled(deps, job, charge, progress.completedEpochs * epochTokens);
  if (!output && signal.aborted && signal.reason instanceof ServiceShutdown) return requeue(deps, job);
  if (!output) return fail(failureOf(thrown), ['running']);
  deps.rates.record({ featureTokens, featureMs: output.result.featureMs, steps: output.result.steps, trainingMs: output.result.trainingMs });
  try {
    await finishSucceeded(deps, job, base.id, charge, output, deps.clock() - trainStarted);
  } catch (error) {
    return fail(failureOf(error), ['running']);
  }
}

/** Step events at most every progressIntervalMs; each epoch's last step always, with its hold-out accuracy. */
class ProgressEvents {
  completedEpochs = 0;
  private lastAt = -Infinity;
  private reEstimated = false;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: RunDeps, private readonly job: JobRecord, private readonly epochs: number) {}

  report(p: TrainProgress): void {
    const epochEnd = p.phase === 'training' && p.step === p.epoch * (p.totalSteps / this.epochs);
    if (epochEnd) this.completedEpochs = p.epoch;
    if (p.phase === 'training' && !this.reEstimated) this.reEstimate(p);
    const at = this.deps.clock();
    if (!epochEnd && at - this.lastAt < this.deps.progressIntervalMs) return;
    this.lastAt = at;
    this.write(eventOf(p, this.epochs, epochEnd));
  }

  flushed(): Promise<unknown> {
    return this.writes;
  }

  /** Features are read: what is left is the optimiser's steps, at this process's step rate. */
  private reEstimate(p: TrainProgress): void {
    this.reEstimated = true;
    const estimatedFinish = this.deps.now() + Math.ceil((p.totalSteps - p.step) / this.deps.rates.rates.stepsPerSecond);
    this.chain(() => this.deps.store.updateJob(this.job.id, ['running'], { estimatedFinish }));
  }

  private write(event: NewEvent): void {
    this.chain(() => this.deps.events.add(this.job.id, 'running', event));
  }

  /** One write at a time, in order; a failed write is reported and does not stop the ones after it. */
  private chain(write: () => Promise<unknown>): void {
    this.writes = this.writes.then(write).catch((error: unknown) => this.deps.onError(error, this.job.id));
  }
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

function eventOf(p: TrainProgress, epochs: number, epochEnd: boolean): NewEvent {
  if (p.phase === 'features') {
    return { message: `Reading the texts with the base encoder: ${p.step}/${p.totalSteps}`, data: { phase: 'features', step: p.step, total_steps: p.totalSteps } };
  }
  const data: Record<string, unknown> = { step: p.step, total_steps: p.totalSteps, epoch: p.epoch, train_loss: round(p.trainLoss, 6) };
  let message = `Step ${p.step}/${p.totalSteps}: training loss=${p.trainLoss.toFixed(4)}`;
  if (epochEnd) {
    message = `Epoch ${p.epoch}/${epochs}: training loss=${p.trainLoss.toFixed(4)}`;
    if (p.holdoutAccuracy !== undefined) {
      data.holdout_accuracy = round(p.holdoutAccuracy, 6);
      message += `, hold-out accuracy=${p.holdoutAccuracy.toFixed(4)}`;
    }
  }
  return { type: 'metrics', message, data };
}

async function finishSucceeded(deps: RunDeps, job: JobRecord, baseId: string, charge: TrainingCharge, output: TrainOutput, computeMs: number): Promise<void> {
  const { store, events, now } = deps;
  const name = tenantModelName(baseId, job.tenantId, job.suffix, job.id);
  // A crashed earlier attempt of this job may have stored the model before it could record the job: same seed, same head.
  if (await store.getModel(job.tenantId, name)) await store.deleteModel(job.tenantId, name);
  const model: TenantModelRecord = { name, tenantId: job.tenantId, jobId: job.id, base: job.model, labels: output.head.labels, head: encodeHead(output.head), createdAt: now() };
  await store.insertModel(model);
  const result: TrainingResult = { ...output.result, belowMajorityBaseline: isBelowMajorityBaseline(output.result) };
  if (result.belowMajorityBaseline) await events.add(job.id, 'running', belowBaselineWarning(result));
  await events.add(job.id, 'running', { message: 'New fine-tuned model created', data: { fine_tuned_model: name } });

  const bytes = new TextEncoder().encode(JSON.stringify(resultObject(result)));
  const file: StoredFile = { id: newFileId(), tenantId: job.tenantId, filename: `${job.id}-results.json`, purpose: 'fine-tune-results', bytes: bytes.length, createdAt: now(), rows: null, labels: null };
  // Results are what the service writes, not what the tenant uploads: the storage quota does not apply.
  await store.insertFile(file, bytes, Number.MAX_SAFE_INTEGER);

  const trainedTokens = result.trainedTokens;
  const done = { status: 'succeeded' as const, finishedAt: now(), estimatedFinish: null, fineTunedModel: name, trainedTokens, result, resultFiles: [file.id] };
  if (!(await store.updateJob(job.id, ['running'], done))) {
    // Someone else decided this job's outcome (a cancel from a process that did not run it): keep nothing of ours.
    await store.deleteModel(job.tenantId, name);
    await store.deleteFile(job.tenantId, file.id);
    return;
  }
  await events.add(job.id, 'succeeded', { message: 'The job has successfully completed' });
  await settle(deps, job, charge, { trainedTokens, costMicroUsd: trainingCostMicroUsd(baseEntryPrice(deps, job), trainedTokens), status: 200, computeMs });
  deps.onModelCreated?.(model);
}

/** A model no better than guessing the most frequent label is still a model, but its tenant should know, and what to change. */
function belowBaselineWarning(result: TrainingResult): NewEvent {
  const { label, accuracy } = result.majorityBaseline;
  return {
    level: 'warn',
    message: `The model's hold-out accuracy ${result.holdoutAccuracy.toFixed(4)} is below the majority baseline ${accuracy.toFixed(4)} `
      + `(always answering ${JSON.stringify(label)}): it does worse than that guess. Try more epochs (n_epochs), more training rows, `
      + 'or labels closer to balanced',
    data: { holdout_accuracy: result.holdoutAccuracy, majority_baseline: { label, accuracy } },
  };
}

const baseEntryPrice = (deps: RunDeps, job: JobRecord) => deps.registry.resolve(job.model)?.price ?? { requestMicroUsd: 0, inputTokenMicroUsd: 0, outputTokenMicroUsd: 0 };

async function settle(deps: RunDeps, job: JobRecord, charge: TrainingCharge, usage: Parameters<TrainingMeter['settle']>[1]): Promise<void> {
  try {
    await deps.meter.settle(charge, usage);
  } catch (error) {
    // The outcome is recorded; a usage record that could not be written is billing's to reconcile, not the job's.
    deps.onError(error, job.id);
  }
}

export async function finishFailed(deps: RunDeps, job: JobRecord, charge: TrainingCharge, cause: FailureCause, from: readonly JobStatus[]): Promise<void> {
  // trainedTokens: what was billed (nothing), no longer the estimate the job was created with.
  const failed = { status: 'failed' as const, finishedAt: deps.now(), estimatedFinish: null, error: cause.error, trainedTokens: 0 };
  if (!(await deps.store.updateJob(job.id, from, failed))) return;
  await deps.events.add(job.id, 'failed', { level: 'error', message: `Fine-tuning job failed: ${cause.error.message}`, data: { code: cause.error.code } });
  await settle(deps, job, charge, { trainedTokens: 0, costMicroUsd: 0, status: cause.status, computeMs: 0 });
}

/** The client's end of the job: 499, as billing records a request its client gave up. */
export async function finishCancelled(deps: RunDeps, job: JobRecord, charge: TrainingCharge, trainedTokens: number, from: readonly JobStatus[] = ['running']): Promise<void> {
  const billed = Math.round(trainedTokens);
  if (!(await deps.store.updateJob(job.id, from, { status: 'cancelled', finishedAt: deps.now(), estimatedFinish: null, trainedTokens: billed }))) return;
  await deps.events.add(job.id, 'cancelled', { message: 'The job was cancelled', data: billed > 0 ? { trained_tokens: billed } : null });
  await settle(deps, job, charge, { trainedTokens: billed, costMicroUsd: trainingCostMicroUsd(baseEntryPrice(deps, job), billed), status: 499, computeMs: 0 });
}

async function requeue(deps: RunDeps, job: JobRecord): Promise<void> {
  const back = { status: 'queued' as const, startedAt: null, estimatedFinish: null, attempts: job.attempts };
  if (!(await deps.store.updateJob(job.id, ['running'], back))) return;
  await deps.events.add(job.id, 'queued', { level: 'warn', message: 'The server shut down during training; the job is queued again and starts over when the server is back' });
}

