/**
 * Shadow traffic: a request the route picked for its shadow also runs on the shadow version, after its answer is
 * sent (started on a timer, so the answer goes first; at the edge under waitUntil), and the two are compared text by
 * text: whether the top labels agree, and |score delta| (the answered top label's score less the shadow's score for
 * that label, with the same score function). The shadow's answer is never returned, and it is never metered nor
 * billed: it runs past the request's meter and admission. At most maxInFlight shadow runs at a time per process
 * (isolate); one more is skipped and counted, as is one the shadow's queue refuses, so shadows never queue up
 * behind real traffic without bound.
 *
 * Shadows are background work. Where the process's classifiers share one batch lane (the Node server), a shadow
 * whose turn comes while any real work is queued or running there (`realWorkPending`) is skipped and counted: it
 * would take lane time from the requests waiting (a burst at 100 % shadow doubled their p50 and added 503s). A
 * shadow that found the lane idle delays a real request that arrives meanwhile by at most its own one batch. At the
 * edge (no lane: each isolate runs one request's texts) the in-flight bound alone applies.
 */
import type { Context } from 'hono';
import { rankLabels, type LabelScore, type ScoreFunction } from '../engine/classification/scores.js';
import { QueueFullError } from '../engine/tasks/queue-full-error.js';
import type { TextClassifier } from '../engine/tasks/text-classifier.js';
import type { AppEnv } from '../http/request-context.js';
import type { RouteStore, ShadowComparison } from './route-store.js';

export const DEFAULT_MAX_SHADOWS_IN_FLIGHT = 4;

/** What one shadow run found (or that it was skipped): the counts added to the store, for metrics too. */
export type ShadowOutcome = Omit<ShadowComparison, 'scoreDeltaSum'> & { scoreDeltaSum: number };

export interface ShadowJob {
  alias: string;
  /** id@version of the version that answered, and of the shadow. */
  model: string;
  shadowModel: string;
  classifier: TextClassifier;
  texts: string[];
  /** The answer the caller got, ranked best first per text. */
  answered: LabelScore[][];
  scoreFunction: ScoreFunction;
}

/** The counts of one comparison: top labels agreeing, and the summed |score delta|. */
export function compareAnswers(answered: LabelScore[][], shadow: LabelScore[][]): { compared: number; agreed: number; scoreDeltaSum: number } {
  let agreed = 0;
  let scoreDeltaSum = 0;
  answered.forEach((ranked, i) => {
    const top = ranked[0]!;
    const other = shadow[i]!;
    if (other[0]?.label === top.label) agreed += 1;
    scoreDeltaSum += Math.abs(top.score - (other.find((s) => s.label === top.label)?.score ?? 0));
  });
  return { compared: answered.length, agreed, scoreDeltaSum };
}

const waitUntil = (c: Context<AppEnv>, work: Promise<unknown>) => {
  try {
    c.executionCtx.waitUntil(work);
  } catch {
    // Node and Lambda have no ExecutionContext (Hono throws): the promise runs on by itself.
  }
};

export class ShadowRunner {
  private inFlight = 0;

  constructor(
    private readonly store: RouteStore,
    private readonly maxInFlight = DEFAULT_MAX_SHADOWS_IN_FLIGHT,
    private readonly onOutcome?: (outcome: ShadowOutcome) => void,
    private readonly realWorkPending?: () => boolean,
  ) {}

  /** Starts the shadow run after the answer; returns at once. */
  start(c: Context<AppEnv>, job: ShadowJob): void {
    const base = { alias: job.alias, model: job.model, shadowModel: job.shadowModel };
    const skipped = { ...base, compared: 0, agreed: 0, scoreDeltaSum: 0, skipped: job.texts.length };
    if (this.inFlight >= this.maxInFlight) {
      waitUntil(c, this.record(skipped));
      return;
    }
    this.inFlight += 1;
    const run = new Promise<void>((resolve) => setTimeout(resolve, 0))
      .then(async () => {
        // Read when the shadow would start, not when its request was answered: what real work holds the lane now.
        if (this.realWorkPending?.()) return skipped;
        const results = await job.classifier.classify(job.texts);
        const shadow = results.map((r) => rankLabels(r.logits, job.classifier.labels, job.scoreFunction));
        return { ...base, ...compareAnswers(job.answered, shadow), skipped: 0 };
      })
      .catch((error: unknown) => {
        // A full queue is the expected refusal under load; anything else is logged too.
        if (!(error instanceof QueueFullError)) console.error(`shadow run on ${job.shadowModel} failed: ${error instanceof Error ? error.message : String(error)}`);
        return skipped;
      })
      .then((outcome) => this.record(outcome))
      .finally(() => { this.inFlight -= 1; });
    waitUntil(c, run);
  }

  private async record(outcome: ShadowOutcome): Promise<void> {
    this.onOutcome?.(outcome);
    await this.store.recordComparison(outcome).catch((error: unknown) => console.error(`shadow comparison not stored: ${error instanceof Error ? error.message : String(error)}`));
  }
}
