/**
 * The fine-tuning jobs API as the Worker's routes see it: creating and cancelling a job is the deployment's one
 * FineTuningQueue object's to do (it owns the queue and runs the jobs), so those two are calls to it; reading jobs
 * and events needs no queue and reads D1 directly, from whichever isolate serves the request.
 */
import { ApiError } from '../http/errors.js';
import type { Caller, CreateJobRequest } from '../tuning/jobs/fine-tuning-service.js';
import { jobNotFound } from '../tuning/jobs/job-errors.js';
import type { FineTuningJobs } from '../tuning/routes/jobs.js';
import type { Page, TuningStore } from '../tuning/tuning-store.js';
import type { JobEvent, JobRecord } from '../tuning/tuning-types.js';
import type { DurableObjectNamespaceLike } from './key-rate-limiter.js';

/** One call to the FineTuningQueue object, as the JSON of its request. */
export type QueueCall =
  | { op: 'create'; caller: Caller; request: CreateJobRequest }
  | { op: 'cancel'; tenantId: string; id: string };

/** The name of the deployment's one queue object. */
export const QUEUE_NAME = 'fine-tuning';

type ErrorAnswer = { error: { message: string; type: string; code: string; param: string | null } };

export class DurableFineTuningJobs implements FineTuningJobs {
  constructor(private readonly namespace: DurableObjectNamespaceLike, private readonly store: TuningStore) {}

  createJob(caller: Caller, request: CreateJobRequest): Promise<JobRecord> {
    return this.call({ op: 'create', caller, request });
  }

  cancelJob(tenantId: string, id: string): Promise<JobRecord> {
    return this.call({ op: 'cancel', tenantId, id });
  }

  async getJob(tenantId: string, id: string): Promise<JobRecord> {
    const job = await this.store.getJob(tenantId, id);
    if (!job) throw jobNotFound(id);
    return job;
  }

  listJobs(tenantId: string, page: Page): Promise<JobRecord[]> {
    return this.store.listJobs(tenantId, page);
  }

  async listEvents(tenantId: string, jobId: string, page: Page): Promise<JobEvent[]> {
    await this.getJob(tenantId, jobId);
    return this.store.listEvents(jobId, page);
  }

  async eventsAfter(tenantId: string, jobId: string, seq: number): Promise<JobEvent[]> {
    await this.getJob(tenantId, jobId);
    return this.store.eventsAfter(jobId, seq);
  }

  /** Nothing is pushed here: the queue object writes the events, and event streams read them from D1 as they poll. */
  subscribe(): () => void {
    return () => {};
  }

  private async call(body: QueueCall): Promise<JobRecord> {
    const stub = this.namespace.get(this.namespace.idFromName(QUEUE_NAME));
    const response = await stub.fetch(new Request('https://fine-tuning.internal/', { method: 'POST', body: JSON.stringify(body) }));
    if (response.ok) return (await response.json()) as JobRecord;
    const { error } = (await response.json()) as ErrorAnswer;
    const retryAfter = response.headers.get('retry-after');
    throw new ApiError(response.status as ApiError['status'], error.message, error.type, error.code, error.param, retryAfter ? { 'retry-after': retryAfter } : {});
  }
}
