/**
 * Fine-tuning jobs for the routes: create (checked, billed ahead, stored, queued), read, cancel, events, and the
 * deployment's one queue that runs them (run-job.ts). Runtime-agnostic: the trainer (inline, or Node's worker
 * thread), the store and the meter are injected.
 *
 * Lifecycle: start() picks up what a previous process left (below), close() stops taking jobs and puts running ones
 * back in the queue (a clean shutdown re-queues; it never fails a job). One service per deployment: start() takes a
 * job found `running` for one that this deployment's previous process was running.
 */
import type { TextEmbedder } from '../../engine/tasks/text-embedder.js';
import type { Registry } from '../../registry/registry.js';
import { newJobId } from '../ids.js';
import type { Trainer } from '../trainer/trainer.js';
import type { TrainingMeter } from '../training-meter.js';
import type { Page, TuningStore } from '../tuning-store.js';
import { FINISHED, type JobEvent, type JobRecord, type TenantModelRecord } from '../tuning-types.js';
import { interrupted, JobCancelled, jobFinished, jobNotFound, ServiceShutdown, serviceClosing, tooManyActiveJobs } from './job-errors.js';
import { JobEventLog, type JobEventListener } from './job-events.js';
import { JobQueue, type JobQueueOptions } from './job-queue.js';
import { prepareJob, type Caller, type CreateJobRequest } from './prepare-job.js';
import { baseOf, chargeOf, finishCancelled, finishFailed, runJob, type RunDeps } from './run-job.js';
import { TrainingRates, type Rates } from './training-rates.js';

export type { Caller, CreateJobRequest } from './prepare-job.js';
export type { JobEventListener } from './job-events.js';

export interface FineTuningServiceOptions {
  store: TuningStore;
  trainer: Trainer;
  registry: Registry;
  /** The base encoder by id@version: its tokenizer counts a training file's tokens (the job's price) and features. */
  embedderFor: (base: string) => Promise<TextEmbedder> | TextEmbedder;
  meter: TrainingMeter;
  /**
   * Jobs one tenant may have active at once (validating_files, queued or running; default 5): past it createJob
   * answers 429 `too_many_active_jobs`, so that one tenant's backlog cannot hold every other tenant's jobs behind it.
   */
  maxActiveJobsPerTenant?: number;
  /** Concurrent runs (default 1). */
  queue?: Pick<JobQueueOptions, 'concurrency'>;
  /**
   * Where jobs run in another process (AWS: a runner function, since a Lambda router freezes after answering):
   * createJob leaves each job queued in the store and awaits this instead of running it here. That process runs a
   * service of its own without dispatch, whose start() takes the queued jobs. A dispatch that fails is reported to
   * onError; the job stays queued for the next runner.
   */
  dispatch?: (job: JobRecord) => Promise<void>;
  /** Unix seconds; default the system clock. */
  now?: () => number;
  /** Milliseconds, for progress throttling; default performance.now(). */
  clock?: () => number;
  /** Step events at most this often; default 500 ms (about 2 a second). */
  progressIntervalMs?: number;
  /** Rates that estimate a job's finish before this process has measured its own (training-rates.ts). */
  rates?: Rates;
  /** Called once a job's tenant model is stored and the job recorded succeeded. */
  onModelCreated?: (model: TenantModelRecord) => void;
  /** What could not be recorded (a store down mid-run, a listener that threw); default console.error. */
  onError?: (error: unknown, jobId: string | null) => void;
}

export const DEFAULT_MAX_ACTIVE_JOBS_PER_TENANT = 5;

/** Restarts a job interrupted by a crash at most this many runs in all; then it fails with code `interrupted`. */
const MAX_ATTEMPTS = 2;

export class FineTuningService {
  private readonly queue: JobQueue;
  private readonly events: JobEventLog;
  private readonly run: RunDeps;
  private closing = false;
  private readonly maxActiveJobs: number;

  constructor(private readonly options: FineTuningServiceOptions) {
    this.maxActiveJobs = options.maxActiveJobsPerTenant ?? DEFAULT_MAX_ACTIVE_JOBS_PER_TENANT;
    if (!Number.isInteger(this.maxActiveJobs) || this.maxActiveJobs < 1) throw new RangeError(`maxActiveJobsPerTenant must be a positive integer, not ${this.maxActiveJobs}`);
    const now = options.now ?? (() => Math.floor(Date.now() / 1000));
    const onError = options.onError ?? ((error, jobId) => console.error(`fine-tuning${jobId ? ` ${jobId}` : ''}:`, error));
    this.events = new JobEventLog(options.store, now, (error) => onError(error, null));
    this.queue = new JobQueue({ concurrency: options.queue?.concurrency, onRunError: (id, error) => onError(error, id) });
    this.run = {
      store: options.store, trainer: options.trainer, registry: options.registry, meter: options.meter, events: this.events, now,
      embedderFor: async (base) => options.embedderFor(base),
      rates: new TrainingRates(options.rates),
      clock: options.clock ?? (() => performance.now()),
      progressIntervalMs: options.progressIntervalMs ?? 500,
      onModelCreated: options.onModelCreated,
      onError,
    };
  }

  /** This process's measured training rates (the defaults until a job finished here). */
  get rates(): Rates {
    return this.run.rates.rates;
  }

  /**
   * Picks up what the previous process left, oldest first: `queued` jobs join the queue again; jobs it left
   * `running` or `validating_files` (it stopped without close(): a crash, a kill) are re-queued with a warning if
   * they have run fewer than MAX_ATTEMPTS times, else failed with code `interrupted`.
   */
  async start(): Promise<void> {
    for (const job of await this.options.store.jobsWithStatus(['validating_files', 'queued', 'running'])) {
      if (this.queue.has(job.id)) continue;
      if (job.status === 'queued') {
        this.enqueue(job);
      } else if (job.attempts < MAX_ATTEMPTS) {
        if (!(await this.options.store.updateJob(job.id, [job.status], { status: 'queued', startedAt: null, estimatedFinish: null }))) continue;
        await this.events.add(job.id, 'queued', { level: 'warn', message: 're-queued after the server restarted' });
        this.enqueue(job);
      } else {
        await finishFailed(this.run, job, this.chargeOf(job), interrupted(job.attempts), [job.status]);
      }
    }
  }

  /** Takes no new jobs; running ones are stopped and queued again, to start over when a service starts on this store. */
  async close(): Promise<void> {
    this.closing = true;
    await this.queue.close(new ServiceShutdown());
  }

  /** Resolves once no job waits or runs here (tests, benchmarks). */
  idle(): Promise<void> {
    return this.queue.drain();
  }

  async createJob(caller: Caller, request: CreateJobRequest): Promise<JobRecord> {
    if (this.closing) throw serviceClosing();
    const { store, meter } = this.options;
    // Before the file is read and tokenized: a refusal costs the store one count. Concurrent creates of one tenant
    // each count before any of them is stored, so together they can pass the cap by at most their number.
    const active = await store.countActiveJobs(caller.tenantId);
    if (active >= this.maxActiveJobs) throw tooManyActiveJobs(caller.tenantId, active, this.maxActiveJobs);
    const prepared = await prepareJob({ store, registry: this.options.registry, embedderFor: this.run.embedderFor }, caller, request);
    const job: JobRecord = {
      id: newJobId(), tenantId: caller.tenantId, keyId: caller.keyId, model: `${prepared.base.id}@${prepared.base.version}`,
      trainingFile: request.training_file, validationFile: request.validation_file ?? null, hyperparameters: prepared.hyperparameters,
      suffix: prepared.suffix, seed: prepared.seed, status: 'validating_files', createdAt: this.run.now(), startedAt: null, finishedAt: null,
      estimatedFinish: null, error: null, fineTunedModel: null, trainedTokens: prepared.trainedTokens, result: null, resultFiles: [],
      attempts: 0, usageId: crypto.randomUUID(),
    };
    const charge = chargeOf(job, prepared.base);
    await meter.reserve(charge, prepared.costMicroUsd, prepared.trainedTokens); // a 402 leaves nothing behind
    try {
      await store.insertJob(job);
    } catch (error) {
      await meter.settle(charge, { trainedTokens: 0, costMicroUsd: 0, status: 500, computeMs: 0 }).catch((e: unknown) => this.run.onError(e, job.id));
      throw error;
    }
    await this.events.add(job.id, 'validating_files', { message: 'Validating training file' });
    // The files were validated above; a crash before this set leaves the job `validating_files`, which start() re-queues.
    await store.updateJob(job.id, ['validating_files'], { status: 'queued' });
    await this.events.add(job.id, 'queued', { message: 'Files validated, moving job to queued state' });
    // Closed meanwhile: the job stays queued in the store for the next start().
    if (this.options.dispatch) await this.options.dispatch({ ...job, status: 'queued' }).catch((e: unknown) => this.run.onError(e, job.id));
    else if (!this.closing) this.enqueue(job);
    // The record as created; its run may already have moved it on, which getJob() shows.
    return { ...job, status: 'queued' };
  }

  /** The tenant's job; another tenant's id answers 404 exactly like an unknown one. */
  async getJob(tenantId: string, id: string): Promise<JobRecord> {
    const job = await this.options.store.getJob(tenantId, id);
    if (!job) throw jobNotFound(id);
    return job;
  }

  listJobs(tenantId: string, page: Page): Promise<JobRecord[]> {
    return this.options.store.listJobs(tenantId, page);
  }

  /**
   * A queued job is cancelled at once; a running one is stopped and recorded cancelled before this returns (a
   * run that finished first stays succeeded and is returned as it is). A finished job: 409 `job_finished`.
   */
  async cancelJob(tenantId: string, id: string): Promise<JobRecord> {
    const job = await this.getJob(tenantId, id);
    if (FINISHED.includes(job.status)) throw jobFinished(id, job.status);
    if (job.status !== 'running') {
      const before = this.queue.has(id);
      await finishCancelled(this.run, job, this.chargeOf(job), 0, ['queued', 'validating_files']);
      // Dequeued, or, if its run had just taken it, stopped before it sets `running` (its set fails).
      if (before) this.queue.cancel(id, new JobCancelled());
    }
    const now = await this.getJob(tenantId, id);
    if (now.status === 'running') {
      if (this.queue.cancel(id, new JobCancelled()) === 'aborted') await this.queue.settled(id);
      // Running, yet not here: left by a process that has not restarted. Nothing runs it, so it is simply cancelled.
      else await finishCancelled(this.run, now, this.chargeOf(now), 0, ['running']);
    }
    return this.getJob(tenantId, id);
  }

  /** Newest first, as OpenAI lists them. */
  async listEvents(tenantId: string, jobId: string, page: Page): Promise<JobEvent[]> {
    await this.getJob(tenantId, jobId);
    return this.options.store.listEvents(jobId, page);
  }

  /** Oldest first, those after `seq` (0: all): what an event stream sends before it follows subscribe(). */
  async eventsAfter(tenantId: string, jobId: string, seq: number): Promise<JobEvent[]> {
    await this.getJob(tenantId, jobId);
    return this.options.store.eventsAfter(jobId, seq);
  }

  /**
   * Each event this process writes for the job from now on, with the job's status after it. The caller checks the
   * tenant first (getJob), reads eventsAfter() for what came before, and skips seqs it already sent.
   */
  subscribe(jobId: string, listener: JobEventListener): () => void {
    return this.events.subscribe(jobId, listener);
  }

  private enqueue(job: Pick<JobRecord, 'id' | 'tenantId'>): void {
    this.queue.enqueue(job.id, (signal) => runJob(this.run, { id: job.id, tenantId: job.tenantId }, signal));
  }

  private chargeOf(job: JobRecord) {
    return chargeOf(job, baseOf(this.options.registry, job));
  }
}
