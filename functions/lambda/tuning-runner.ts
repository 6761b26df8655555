/**
 * The AWS runner function: the router's bundle with this handler, invoked asynchronously by the router each time it
 * queues a job (lambda-tuning.ts). It runs the queued jobs with the inline EmbeddingTrainer over the bundled
 * encoder until none remain, or until its time limit nears: then the running job goes back to the queue (a clean
 * close re-queues it, attempts unchanged) and the runner invokes itself to carry on. The stack gives it a reserved
 * concurrency of 1, so one runner is the deployment's one queue, and a job it finds `running` was left by a runner
 * that was stopped (start() re-queues it once, then fails it as interrupted).
 *
 * Limitation: a run starts over when it is re-queued, so a job that needs longer than one invocation (15 minutes
 * less the margin) never finishes; issue 12's files train in seconds to a few minutes.
 */
import type { LambdaContext } from 'hono/aws-lambda';
import { dynamoTablesFromEnv, openBilling } from '../node/billing-setup.js';
import { loadAllEngines, readLocalRegistry } from '../node/local-app.js';
import type { Registry } from '../registry/registry.js';
import type { TextEmbedder } from '../engine/tasks/text-embedder.js';
import { BillingTrainingMeter } from '../tuning/billing-training-meter.js';
import { FineTuningService } from '../tuning/jobs/fine-tuning-service.js';
import { EmbeddingTrainer } from '../tuning/trainer/train-classifier.js';
import type { TrainingMeter } from '../tuning/training-meter.js';
import type { TuningStore } from '../tuning/tuning-store.js';
import { awsTuningFromEnv, embedderLookup, invokeRunner, openAwsStore } from './lambda-tuning.js';

/** Time kept back at the end of an invocation to re-queue the running job, flush usage and invoke the next runner. */
export const RUNNER_MARGIN_MS = 60_000;

export interface RunnerDeps {
  store: TuningStore;
  registry: Registry;
  embedders: Map<string, TextEmbedder>;
  meter: TrainingMeter;
  /** Writes what the meter buffered (billing's usage writer) before the function freezes. */
  settle: () => Promise<void>;
  /** Starts the next runner when this one runs out of time. */
  continueElsewhere: () => Promise<void>;
}

export type RunnerOutcome = { outcome: 'idle' | 'out_of_time'; ran: number };

/** Runs queued jobs until none remain ('idle') or fewer than marginMs remain ('out_of_time', the running job re-queued). */
export async function runQueuedJobs(deps: RunnerDeps, remainingMs: () => number, marginMs = RUNNER_MARGIN_MS): Promise<RunnerOutcome> {
  const embedderFor = embedderLookup(deps.registry, deps.embedders);
  let ran = 0;
  const service = new FineTuningService({
    store: deps.store, registry: deps.registry, embedderFor, meter: deps.meter,
    trainer: new EmbeddingTrainer({ embedderFor: async (base) => embedderFor(base) }),
    onModelCreated: () => void ran++,
  });
  try {
    for (;;) {
      await service.start();
      const left = remainingMs() - marginMs;
      if (left <= 0 || !(await idleWithin(service, left))) return { outcome: 'out_of_time', ran };
      // Jobs the router queued while these ran (their invokes wait behind the reserved concurrency): take them too.
      if ((await deps.store.jobsWithStatus(['validating_files', 'queued'])).length === 0) return { outcome: 'idle', ran };
    }
  } finally {
    await service.close();
  }
}

async function idleWithin(service: FineTuningService, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([service.idle().then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

let shared: Promise<RunnerDeps> | null = null;
let continuation: (() => Promise<void>) | null = null;

/** For tests in one process: what the runner does instead of invoking itself when it runs out of time (null: invoke). */
export function overrideContinuation(next: (() => Promise<void>) | null): void {
  continuation = next;
}

async function openRunner(): Promise<RunnerDeps> {
  const config = awsTuningFromEnv();
  if (!config) throw new Error('the runner needs TUNING_TABLE and TUNING_BUCKET');
  const registry = await readLocalRegistry();
  const embedders = (await loadAllEngines(registry))['feature-extraction'];
  const billing = dynamoTablesFromEnv() ? await openBilling({ mode: 'keys' }) : null;
  const next = config.runner ?? process.env.AWS_LAMBDA_FUNCTION_NAME;
  return {
    store: openAwsStore(config), registry, embedders,
    meter: billing ? new BillingTrainingMeter({ store: billing.billing.store, writer: billing.billing.writer }) : { reserve: async () => {}, settle: async () => {} },
    settle: billing ? billing.settle : async () => {},
    continueElsewhere: async () => {
      if (continuation) return continuation();
      if (!next) throw new Error('no function to continue in: set TUNING_RUNNER_FUNCTION');
      await invokeRunner(next)({ reason: 'continue' });
    },
  };
}

/** For tests in one process: the deps the next invocation uses (null: open them from the environment). */
export function setRunnerDeps(deps: RunnerDeps | null): void {
  shared = deps ? Promise.resolve(deps) : null;
}

/** The deps this warm function uses, opened from the environment on first use (a failed open is retried next time). */
export function runnerDeps(): Promise<RunnerDeps> {
  shared ??= openRunner().catch((error: unknown) => {
    shared = null;
    throw error;
  });
  return shared;
}

export async function handler(_event: unknown, context: Pick<LambdaContext, 'getRemainingTimeInMillis'>): Promise<RunnerOutcome> {
  const deps = await runnerDeps();
  try {
    const result = await runQueuedJobs(deps, () => context.getRemainingTimeInMillis());
    if (result.outcome === 'out_of_time') await deps.continueElsewhere();
    return result;
  } finally {
    await deps.settle();
  }
}
