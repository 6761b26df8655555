/**
 * The service's answers for bad requests, and what a failed run records: a JobError with a code and one line of
 * message, never a stack trace (a job's error is shown to its tenant as it is).
 */
import { ApiError } from '../../http/errors.js';
import type { JobError, JobStatus } from '../tuning-types.js';

export const jobNotFound = (id: string): ApiError =>
  new ApiError(404, `fine-tuning job "${id.slice(0, 100)}" does not exist`, 'invalid_request_error', 'job_not_found', 'fine_tuning_job_id');

export const jobFinished = (id: string, status: JobStatus): ApiError =>
  new ApiError(409, `fine-tuning job ${id} has already ${status === 'cancelled' ? 'been cancelled' : status}; only a queued or running job can be cancelled`,
    'invalid_request_error', 'job_finished', 'fine_tuning_job_id');

/**
 * No Retry-After: waiting a set time frees no place; one of the tenant's jobs must finish or be cancelled. And
 * x-should-retry: false, which OpenAI's clients obey, so that they raise it at once rather than retry a 429 blindly.
 */
export const tooManyActiveJobs = (tenantId: string, active: number, max: number): ApiError =>
  new ApiError(429, `tenant "${tenantId}" has ${active} active fine-tuning jobs (validating_files, queued or running), and at most ${max} may be `
    + 'active at once: wait for one to finish, or cancel one (POST /v1/fine_tuning/jobs/{id}/cancel), then create this job again',
  'rate_limit_error', 'too_many_active_jobs', null, { 'x-should-retry': 'false' });

export const serviceClosing = (): ApiError =>
  new ApiError(503, 'the server is shutting down and takes no new fine-tuning jobs; retry in a moment', 'server_error', 'service_unavailable', null, { 'retry-after': '5' });

/** Why a run's signal was aborted: a tenant cancelled the job, or this process is shutting down (the job goes back to the queue). */
export class JobCancelled extends Error {
  override name = 'JobCancelled';
  constructor() {
    super('the job was cancelled');
  }
}

export class ServiceShutdown extends Error {
  override name = 'ServiceShutdown';
  constructor() {
    super('the server is shutting down');
  }
}

/** Errors that carry what the tenant should see (the training file's line and field, a missing file). */
export interface FailureCause {
  error: JobError;
  /** The HTTP-like status the job's usage record gets. */
  status: number;
}

const oneLine = (text: string): string => {
  const line = text.split('\n', 1)[0]!.trim();
  return line.length > 500 ? `${line.slice(0, 500)}…` : line || 'training failed';
};

export function failureOf(error: unknown): FailureCause {
  if (error instanceof ApiError) return { error: { code: error.code, message: oneLine(error.message), param: error.param }, status: error.status };
  const message = error instanceof Error ? error.message : String(error);
  return { error: { code: 'training_failed', message: oneLine(message), param: null }, status: 500 };
}

export const interrupted = (attempts: number): FailureCause => ({
  error: { code: 'interrupted', message: `the server stopped during training ${attempts} times; the job was not retried again`, param: null },
  status: 500,
});
