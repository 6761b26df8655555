/** Stored records as the objects OpenAI's API answers with (snake_case, `object` tags), and its cursor pages. */
import { resultObject } from '../jobs/result-object.js';
import type { JobEvent, JobRecord, StoredFile } from '../tuning-types.js';

export const fileObject = (file: StoredFile) => ({
  id: file.id,
  object: 'file' as const,
  bytes: file.bytes,
  created_at: file.createdAt,
  filename: file.filename,
  purpose: file.purpose,
  status: 'processed' as const,
  status_details: null,
  expires_at: null,
});

export function jobObject(job: JobRecord) {
  const hyperparameters = {
    n_epochs: job.hyperparameters.nEpochs,
    batch_size: job.hyperparameters.batchSize,
    learning_rate_multiplier: job.hyperparameters.learningRateMultiplier,
  };
  return {
    id: job.id,
    object: 'fine_tuning.job' as const,
    created_at: job.createdAt,
    error: job.error && { code: job.error.code, message: job.error.message, param: job.error.param },
    fine_tuned_model: job.fineTunedModel,
    finished_at: job.finishedAt,
    hyperparameters,
    model: job.model,
    organization_id: job.tenantId,
    result_files: job.resultFiles,
    seed: job.seed,
    status: job.status,
    trained_tokens: job.trainedTokens,
    training_file: job.trainingFile,
    validation_file: job.validationFile,
    estimated_finish: job.estimatedFinish,
    integrations: null,
    metadata: null,
    method: { type: 'supervised' as const, supervised: { hyperparameters } },
    result: job.result && resultObject(job.result),
  };
}

export const eventObject = (event: JobEvent) => ({
  id: event.id,
  object: 'fine_tuning.job.event' as const,
  created_at: event.createdAt,
  level: event.level,
  message: event.message,
  data: event.data,
  type: event.type,
});

/**
 * One page of a listing, from `limit + 1` rows read: whether more follow is whether the extra row came. OpenAI's
 * client asks for the next page with `after` = the last id of this one while has_more is true.
 */
export function cursorPage<R, O extends { id: string }>(rows: R[], limit: number, toObject: (row: R) => O) {
  const data = rows.slice(0, limit).map(toObject);
  return { object: 'list' as const, data, has_more: rows.length > limit };
}

/** Files' pages also say their first and last ids. */
export function filePage(rows: StoredFile[], limit: number) {
  const page = cursorPage(rows, limit, fileObject);
  return { ...page, first_id: page.data[0]?.id ?? null, last_id: page.data.at(-1)?.id ?? null };
}
