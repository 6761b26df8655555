/**
 * The Files and fine-tuning jobs API in OpenAI's shapes (what the official `openai` client's types expect), as
 * schemas the routes declare: they validate requests and make the OpenAPI document. Ranges of hyperparameters,
 * suffix and seed are the job service's to check (one place), so the schemas only check types here.
 */
import { z } from '@hono/zod-openapi';

export const FileObject = z
  .object({
    id: z.string().openapi({ example: 'file-0a1b2c3d4e5f6g7h8i9j0k1l' }),
    object: z.literal('file'),
    bytes: z.number().int(),
    created_at: z.number().int().openapi({ description: 'Unix seconds.' }),
    filename: z.string(),
    purpose: z.enum(['fine-tune', 'fine-tune-results']),
    status: z.literal('processed').openapi({ description: 'Always processed: a training file is validated when it is uploaded.' }),
    status_details: z.null(),
    expires_at: z.null(),
  })
  .openapi('FileObject');

export const FileList = z
  .object({
    object: z.literal('list'),
    data: z.array(FileObject),
    has_more: z.boolean(),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
  })
  .openapi('FileList');

export const FileDeleted = z.object({ id: z.string(), object: z.literal('file'), deleted: z.literal(true) }).openapi('FileDeleted');

export const FileUpload = z
  .object({
    file: z.string().openapi({ type: 'string', format: 'binary', description: 'JSON lines of {"text": "...", "label": "..."}; 2 to 100 distinct labels.' }),
    purpose: z.literal('fine-tune'),
  })
  .openapi('FileUpload');

const limitParam = (max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, { error: `must be an integer from 1 to ${max}` })
    .transform(Number)
    .refine((n) => n >= 1 && n <= max, { error: `must be an integer from 1 to ${max}` })
    .optional()
    .openapi({ type: 'integer', minimum: 1, maximum: max, default: fallback, description: `How many to list (1 to ${max}; default ${fallback}).` });

const afterParam = z.string().max(200, { error: 'is too long to be an id' }).optional().openapi({ description: 'The id of the last object of the previous page.' });

export const MAX_FILES_PAGE = 10_000;
export const MAX_JOBS_PAGE = 100;
export const DEFAULT_JOBS_PAGE = 20;

export const FileListQuery = z.object({
  purpose: z.string().optional().openapi({ description: 'Only files with this purpose.' }),
  limit: limitParam(MAX_FILES_PAGE, MAX_FILES_PAGE),
  after: afterParam,
  order: z.enum(['asc', 'desc'], { error: 'must be asc or desc' }).optional().openapi({ description: 'By created_at (default desc: newest first).' }),
});

export const PageQuery = z.object({ limit: limitParam(MAX_JOBS_PAGE, DEFAULT_JOBS_PAGE), after: afterParam });

export const EventsQuery = PageQuery.extend({
  stream: z.enum(['true', 'false'], { error: 'must be true or false' }).optional().openapi({ description: 'true: server-sent events (as Accept: text/event-stream).' }),
});

export const FileId = z.string().openapi({ param: { name: 'file_id', in: 'path' }, example: 'file-0a1b2c3d4e5f6g7h8i9j0k1l' });
export const JobId = z.string().openapi({ param: { name: 'fine_tuning_job_id', in: 'path' }, example: 'ftjob-0a1b2c3d4e5f6g7h8i9j0k1l' });

const Auto = z.literal('auto');
const hyperparameter = (description: string) =>
  z.union([Auto, z.number({ error: 'must be a number or "auto"' })], { error: 'must be a number or "auto"' }).optional().openapi({ description });

export const HyperparametersRequest = z
  .object(
    {
      n_epochs: hyperparameter('Passes over the training rows: an integer from 1 to 50, or "auto".'),
      batch_size: hyperparameter('Rows per optimiser step: an integer from 1 to 256, or "auto".'),
      learning_rate_multiplier: hyperparameter('Scales the base learning rate: above 0, at most 10, or "auto".'),
    },
    {
      error: (issue) => (issue.code === 'unrecognized_keys'
        ? `has no ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}: the hyperparameters are n_epochs, batch_size and learning_rate_multiplier`
        : 'must be an object'),
    },
  )
  .strict()
  .openapi('FineTuningHyperparameters');

const nullableString = (description: string) => z.string({ error: 'must be a string' }).nullable().optional().openapi({ description });

export const JobCreateRequest = z
  .object({
    model: z.string({ error: 'must be a string' }).min(1, { error: 'must name a base model' }).openapi({ description: 'A feature-extraction model of the registry.', example: 'electra-imdb-small' }),
    training_file: z.string({ error: 'must be a file id' }).min(1, { error: 'must be a file id' }).openapi({ description: 'A fine-tune file of yours (POST /v1/files).' }),
    validation_file: nullableString('A fine-tune file to measure on; else a seeded hold-out split of the training file.'),
    hyperparameters: HyperparametersRequest.optional(),
    method: z
      .object({
        type: z.literal('supervised', { error: 'must be "supervised": the only method for classifiers' }),
        supervised: z.object({ hyperparameters: HyperparametersRequest.optional() }, { error: 'must be an object' }).optional(),
      }, { error: 'must be an object' })
      .optional()
      .openapi({ description: 'OpenAI\'s newer place for the hyperparameters; give them here or at the top level, not both.' }),
    suffix: nullableString('Up to 40 characters of a-z, 0-9, - and _, put into the model name.'),
    seed: z.number({ error: 'must be an integer' }).int({ error: 'must be an integer' }).nullable().optional().openapi({ description: 'Same file, seed and base: the same model. Random when omitted.' }),
    integrations: z.array(z.unknown()).max(0, { error: 'is not supported here' }).nullable().optional(),
    metadata: z.null({ error: 'is not supported here' }).optional(),
  })
  .openapi('FineTuningJobCreateRequest');

export const JobError = z.object({ code: z.string(), message: z.string(), param: z.string().nullable() });

const Hyperparameters = z.object({ n_epochs: z.number().int(), batch_size: z.number().int(), learning_rate_multiplier: z.number() });

export const TrainingResult = z
  .object({
    labels: z.array(z.string()),
    train_rows: z.number().int(),
    holdout_rows: z.number().int(),
    holdout_accuracy: z.number(),
    per_label: z.array(z.object({ label: z.string(), precision: z.number(), recall: z.number(), support: z.number().int() })),
    majority_baseline: z.object({ label: z.string(), accuracy: z.number() }),
    trained_tokens: z.number().int(),
    epochs: z.number().int(),
    steps: z.number().int(),
    feature_ms: z.number(),
    training_ms: z.number(),
  })
  .openapi('FineTuningResult', { description: 'What the job measured on its hold-out (the validation file, or a seeded split).' });

export const JobStatus = z.enum(['validating_files', 'queued', 'running', 'succeeded', 'failed', 'cancelled']);

export const JobObject = z
  .object({
    id: z.string(),
    object: z.literal('fine_tuning.job'),
    created_at: z.number().int(),
    error: JobError.nullable(),
    fine_tuned_model: z.string().nullable().openapi({ description: 'ft:<base>:<tenant>:<suffix>:<job id>, once the job succeeded.' }),
    finished_at: z.number().int().nullable(),
    hyperparameters: Hyperparameters,
    model: z.string(),
    organization_id: z.string().openapi({ description: 'The tenant.' }),
    result_files: z.array(z.string()),
    seed: z.number().int(),
    status: JobStatus,
    trained_tokens: z.number().int().nullable(),
    training_file: z.string(),
    validation_file: z.string().nullable(),
    estimated_finish: z.number().int().nullable(),
    integrations: z.null(),
    metadata: z.null(),
    method: z.object({ type: z.literal('supervised'), supervised: z.object({ hyperparameters: Hyperparameters }) }),
    result: TrainingResult.nullable(),
  })
  .openapi('FineTuningJob');

export const JobList = z.object({ object: z.literal('list'), data: z.array(JobObject), has_more: z.boolean() }).openapi('FineTuningJobList');

export const EventObject = z
  .object({
    id: z.string(),
    object: z.literal('fine_tuning.job.event'),
    created_at: z.number().int(),
    level: z.enum(['info', 'warn', 'error']),
    message: z.string(),
    data: z.record(z.string(), z.unknown()).nullable(),
    type: z.enum(['message', 'metrics']),
  })
  .openapi('FineTuningJobEvent');

export const EventList = z.object({ object: z.literal('list'), data: z.array(EventObject), has_more: z.boolean() }).openapi('FineTuningJobEventList');
