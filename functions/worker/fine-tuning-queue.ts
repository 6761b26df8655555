/**
 * The deployment's fine-tuning queue at the edge: one Durable Object (named QUEUE_NAME) runs the runtime-agnostic
 * FineTuningService over D1 and R2, with the inline EmbeddingTrainer over the bundled WASM encoder, one job at a
 * time. Jobs are created and cancelled through it (DurableFineTuningJobs); each run trains inside an alarm of its
 * own (training-turns.ts), and the alarm is set again while a run waits for its turn. If the object is evicted or
 * reset mid-run (a deploy, the CPU limit), the service that the next call or alarm starts finds the job `running`
 * and re-queues it once, as the Node server does after a crash. Jobs larger than the CPU limit allows are refused
 * at creation (edge-training-limits.ts).
 */
import type { TextEmbedder } from '../engine/tasks/text-embedder.js';
import { ApiError } from '../http/errors.js';
import { modelRef, type Registry } from '../registry/registry.js';
import { BillingTrainingMeter } from '../tuning/billing-training-meter.js';
import { FineTuningService, type Caller, type CreateJobRequest } from '../tuning/jobs/fine-tuning-service.js';
import { prepareJob } from '../tuning/jobs/prepare-job.js';
import { EmbeddingTrainer } from '../tuning/trainer/train-classifier.js';
import type { TuningStore } from '../tuning/tuning-store.js';
import type { JobRecord } from '../tuning/tuning-types.js';
import type { QueueCall } from './durable-fine-tuning-jobs.js';
import { checkEdgeJobSize, featureTokens } from './edge-training-limits.js';
import { edgeEngines, workerRegistry } from './edge-models.js';
import { TurnGate, TurnTakingTrainer, YieldingEmbedder } from './training-turns.js';
import { workerBilling } from './worker-billing.js';
import { tuningStoreOf } from './worker-tuning.js';
import type { Env } from './worker-env.js';

/** What this object uses of workerd's DurableObjectState. */
export interface DurableObjectStateLike {
  storage: {
    getAlarm(): Promise<number | null>;
    setAlarm(scheduledTime: number): Promise<void>;
  };
}

interface OpenQueue {
  service: FineTuningService;
  store: TuningStore;
  registry: Registry;
  embedderFor: (base: string) => TextEmbedder;
}

export class FineTuningQueue {
  private readonly gate = new TurnGate();
  private opened: Promise<OpenQueue> | null = null;

  constructor(private readonly state: DurableObjectStateLike, private readonly env: Env) {}

  async fetch(request: Request): Promise<Response> {
    const call = (await request.json()) as QueueCall;
    try {
      const queue = await this.open();
      const job = call.op === 'create' ? await this.create(queue, call.caller, call.request) : await queue.service.cancelJob(call.tenantId, call.id);
      return Response.json(job);
    } catch (error) {
      if (!(error instanceof ApiError)) console.error('fine-tuning queue:', error);
      const answer = error instanceof ApiError
        ? error
        : new ApiError(500, `the fine-tuning queue failed: ${error instanceof Error ? error.message : String(error)}`, 'server_error', 'fine_tuning_unavailable');
      const { status, message, type, code, param, headers } = answer;
      return Response.json({ error: { message, type, code, param } }, { status, headers });
    }
  }

  /** Grants one waiting run its turn and stays until it has ended; sets the next alarm if another run waits. */
  async alarm(): Promise<void> {
    const { service } = await this.open();
    // A run reads its files before it waits for its turn: wait for it to arrive, unless nothing is queued.
    await Promise.race([this.gate.arrival(), service.idle()]);
    if (!this.gate.grant()) return;
    await Promise.race([this.gate.arrival(), service.idle()]);
    if (this.gate.waiters > 0) await this.state.storage.setAlarm(Date.now());
  }

  private async create(queue: OpenQueue, caller: Caller, request: CreateJobRequest): Promise<JobRecord> {
    // The service checks the request again; this first pass measures the job against the edge's CPU limit.
    const prepared = await prepareJob({ store: queue.store, registry: queue.registry, embedderFor: async (base) => queue.embedderFor(base) }, caller, request);
    checkEdgeJobSize(featureTokens(queue.embedderFor(modelRef(prepared.base)), prepared.training.rows, prepared.validation?.rows ?? null));
    const job = await queue.service.createJob(caller, request);
    await this.ensureAlarm();
    return job;
  }

  private async ensureAlarm(): Promise<void> {
    if ((await this.state.storage.getAlarm()) === null) await this.state.storage.setAlarm(Date.now());
  }

  private open(): Promise<OpenQueue> {
    this.opened ??= this.start().catch((error: unknown) => {
      this.opened = null;
      throw error;
    });
    return this.opened;
  }

  private async start(): Promise<OpenQueue> {
    const store = tuningStoreOf(this.env);
    const billing = workerBilling(this.env);
    if (!store || !billing) throw new Error('fine-tuning at the edge needs the DB and TUNING_BUCKET bindings');
    const registry = workerRegistry(this.env);
    const embedders = (await edgeEngines(this.env, registry))['feature-extraction'];
    const embedderFor = (base: string): TextEmbedder => {
      const model = registry.resolve(base);
      const embedder = model && embedders.get(modelRef(model));
      if (!embedder) throw new Error(`the base model ${base} is not loaded here`);
      return embedder;
    };
    const trainer = new TurnTakingTrainer(new EmbeddingTrainer({ embedderFor: async (base) => new YieldingEmbedder(embedderFor(base)) }), this.gate);
    const meter = new BillingTrainingMeter({ store: billing.store, writer: billing.writer });
    const service = new FineTuningService({ store, trainer, registry, embedderFor, meter });
    // Jobs a previous instance of this object left queued or running are queued again: they need an alarm.
    await service.start();
    await this.ensureAlarm();
    return { service, store, registry, embedderFor };
  }
}
