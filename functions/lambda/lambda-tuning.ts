/**
 * Fine-tuning on AWS: records in DynamoDB (TUNING_TABLE), file bytes in S3 (TUNING_BUCKET, under
 * TUNING_BUCKET_PREFIX), both set by the CDK stack. A Lambda router freezes once it has answered, so it never
 * trains: its job service leaves each job queued and invokes the runner function (TUNING_RUNNER_FUNCTION)
 * asynchronously; the runner (tuning-runner.ts) trains with the inline EmbeddingTrainer. Both serve and train over
 * the encoders loaded from the bundled models/.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { documentClient } from '../billing/dynamo/dynamo-client.js';
import type { TextEmbedder } from '../engine/tasks/text-embedder.js';
import { modelRef, type Registry } from '../registry/registry.js';
import { DynamoTuningStore } from '../tuning/dynamo/dynamo-tuning-store.js';
import { TUNING_ENV } from '../tuning/dynamo/tuning-table.js';
import { FineTuningService, type FineTuningServiceOptions } from '../tuning/jobs/fine-tuning-service.js';
import { StoredTenantModels } from '../tuning/serving/tenant-models.js';
import { EmbeddingTrainer } from '../tuning/trainer/train-classifier.js';
import type { TrainingMeter } from '../tuning/training-meter.js';
import { tuningPlugin } from '../tuning/tuning-plugin.js';
import type { JobRecord } from '../tuning/tuning-types.js';
import type { NodeTuning, OpenTuningOptions } from '../node/tuning-setup.js';
import { tuningSettingsFromEnv } from '../node/tuning-setup.js';
import { s3Client, S3BlobStore } from './s3-blob-store.js';

type Env = Record<string, string | undefined>;

/**
 * Lambda answers at most 6 MB per request (a Function URL's payload limit), so an upload holds less: 4 MiB unless
 * FINE_TUNING_MAX_UPLOAD_BYTES says otherwise.
 */
export const LAMBDA_MAX_UPLOAD_BYTES = 4 * 1024 * 1024;

export interface AwsTuningConfig {
  table: string;
  bucket: string;
  prefix: string;
  /** The runner function's name or ARN: what the router invokes. */
  runner: string | undefined;
}

/** The tables and bucket from the environment, or null when fine-tuning is not deployed (or FINE_TUNING=off). */
export function awsTuningFromEnv(env: Env = process.env): AwsTuningConfig | null {
  const table = env[TUNING_ENV.table];
  const bucket = env[TUNING_ENV.bucket];
  if (!table || !bucket || env.FINE_TUNING === 'off') return null;
  return { table, bucket, prefix: env.TUNING_BUCKET_PREFIX ?? '', runner: env[TUNING_ENV.runner] || undefined };
}

export function openAwsStore(config: AwsTuningConfig): DynamoTuningStore {
  return new DynamoTuningStore(documentClient(), config.table, new S3BlobStore(s3Client(), config.bucket, config.prefix));
}

const UNMETERED: TrainingMeter = { reserve: async () => {}, settle: async () => {} };

/** The embedder of a base model id@version among the loaded ones. */
export function embedderLookup(registry: Registry, embedders: Map<string, TextEmbedder>): (base: string) => TextEmbedder {
  return (base) => {
    const model = registry.resolve(base);
    const embedder = model && embedders.get(modelRef(model));
    if (!embedder) throw new Error(`the base model ${base} is not loaded here`);
    return embedder;
  };
}

/** Starts the runner on its own: an asynchronous invoke (Lambda queues the event and answers 202 at once). */
export function invokeRunner(functionName: string, client = new LambdaClient({ maxAttempts: 4 })): (payload: Record<string, unknown>) => Promise<void> {
  return async (payload) => {
    await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(payload)) }));
  };
}

export interface RouterTuningOptions {
  config: AwsTuningConfig;
  /** How the router starts the runner; default the asynchronous invoke of config.runner. */
  dispatch?: FineTuningServiceOptions['dispatch'];
  store?: DynamoTuningStore;
}

/** The router's fine-tuning, for buildLocalApp's openTuning: routes, tenant models, a service that only dispatches. */
export function routerTuning(options: RouterTuningOptions): (deps: Pick<OpenTuningOptions, 'registry' | 'embedders' | 'meter' | 'readerFor'>) => Promise<NodeTuning> {
  return async ({ registry, embedders, meter, readerFor }) => {
    const store = options.store ?? openAwsStore(options.config);
    const invoke = options.config.runner ? invokeRunner(options.config.runner) : undefined;
    const dispatch = options.dispatch ?? (invoke && ((job: JobRecord) => invoke({ reason: 'job-queued', jobId: job.id })));
    if (!dispatch) throw new Error(`${TUNING_ENV.runner} is not set: the router cannot start training`);
    const settings = tuningSettingsFromEnv() || {};
    const embedderFor = embedderLookup(registry, embedders);
    // This service never trains, so its trainer is never called; it is still a real one for the type.
    const trainer = new EmbeddingTrainer({ embedderFor: async (base) => embedderFor(base) });
    // Never start(): jobs the runner is running are `running` in the table, and start() would take them for its own.
    const service = new FineTuningService({ store, trainer, registry, embedderFor, meter: meter ?? UNMETERED, dispatch });
    return {
      plugin: tuningPlugin({
        service, store, limits: { maxUploadBytes: LAMBDA_MAX_UPLOAD_BYTES, ...settings.limits }, exports: { store, registry, readerFor },
      }),
      tenantModels: new StoredTenantModels({ store, registry, embedders, cacheBytes: settings.headCacheBytes }),
      service,
      close: async () => service.close(),
    };
  };
}
