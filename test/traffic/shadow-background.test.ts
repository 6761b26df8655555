/**
 * Shadows are background work on the Node server's batch lane: a shadow whose turn comes while real requests' work
 * is queued or running in the lane is skipped (counted, stored), never submitted, so the real batches run without
 * it; on an idle lane it runs and is compared. Real BatchLane and MicroBatchers (the classifiers' batching), a real
 * SQLite route store; the classifiers' runBatch records what ran, in order, and the real one is held until released.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Context } from 'hono';
import { BatchLane } from '../../functions/engine/classification/batch-lane.js';
import { MicroBatcher } from '../../functions/engine/classification/micro-batcher.js';
import type { ClassifiedText, TextClassifier } from '../../functions/engine/tasks/text-classifier.js';
import type { AppEnv } from '../../functions/http/request-context.js';
import { migrationsDir } from '../../functions/node/billing-setup.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import { SqlRouteStore } from '../../functions/traffic/route-store.js';
import { ShadowRunner, type ShadowOutcome } from '../../functions/traffic/shadow-runner.js';
import { tempDb } from '../billing/helpers.js';
import { eventually } from '../helpers/eventually.js';

const LABELS = ['negative', 'positive'];
const result = (positive: boolean): ClassifiedText => ({ logits: new Float32Array(positive ? [0, 2] : [2, 0]), tokens: 3, truncated: false, tokenizeMs: 0, inferenceMs: 0 });

let db: Awaited<ReturnType<typeof tempDb>>;
let sqlite: Awaited<ReturnType<typeof openSqlite>>;
beforeEach(async () => {
  db = await tempDb();
  sqlite = await openSqlite(db.path, migrationsDir);
});
afterEach(async () => {
  sqlite.close();
  await db.remove();
});

/** A classifier over a real MicroBatcher in `lane`; `gate` (when set) holds each batch until it resolves. */
function laneClassifier(lane: BatchLane, name: string, ran: string[], gate?: Promise<void>): TextClassifier {
  const batcher = new MicroBatcher<string, ClassifiedText>(async (texts) => {
    ran.push(`${name}:${texts.join('|')}`);
    await gate;
    return texts.map((t) => result(t.includes('good')));
  }, { maxBatchSize: 32, maxWaitMs: 0, maxQueue: 1_000, maxQueueMs: Infinity, lane });
  return { labels: LABELS, classify: (texts) => batcher.submit(texts) };
}

const noContext = {} as Context<AppEnv>; // no ExecutionContext, as on Node
const job = (classifier: TextClassifier, texts: string[]) => ({
  alias: 'sentiment', model: 'sst2-glove-bilstm@2', shadowModel: 'sst2-bert@3', classifier, texts,
  answered: texts.map((t) => (t.includes('good') ? [{ label: 'positive', score: 0.9 }, { label: 'negative', score: 0.1 }] : [{ label: 'negative', score: 0.9 }, { label: 'positive', score: 0.1 }])),
  scoreFunction: 'softmax' as const,
});

describe('shadow runs on a shared batch lane', () => {
  it('skips (and counts) a shadow while real work is queued or running, and submits nothing to the lane', async () => {
    const lane = new BatchLane();
    const ran: string[] = [];
    let release!: () => void;
    const real = laneClassifier(lane, 'real', ran, new Promise<void>((resolve) => { release = resolve; }));
    const shadow = laneClassifier(lane, 'shadow', ran);
    const outcomes: ShadowOutcome[] = [];
    const store = new SqlRouteStore(sqlite);
    const runner = new ShadowRunner(store, 4, (o) => outcomes.push(o), () => !lane.idle);

    const first = real.classify(['good one']);
    await eventually(() => ran.length, (n) => n === 1);
    const second = real.classify(['bad one']); // queued behind the first batch, which is held
    expect(lane.idle).toBe(false);
    runner.start(noContext, job(shadow, ['good a', 'bad b', 'good c']));
    await eventually(() => outcomes.length, (n) => n === 1);
    expect(outcomes[0]).toMatchObject({ compared: 0, skipped: 3 });

    release();
    await Promise.all([first, second]);
    // The real requests' batches ran one after the other, and no shadow batch among them.
    expect(ran).toEqual(['real:good one', 'real:bad one']);
    expect((await eventually(() => store.comparisons('sentiment'), (rows) => rows.length === 1))[0]).toMatchObject({ compared: 0, skipped: 3 });
  });

  it('runs and compares a shadow on an idle lane, after the real batch that answered', async () => {
    const lane = new BatchLane();
    const ran: string[] = [];
    const real = laneClassifier(lane, 'real', ran);
    const shadow = laneClassifier(lane, 'shadow', ran);
    const outcomes: ShadowOutcome[] = [];
    const runner = new ShadowRunner(new SqlRouteStore(sqlite), 4, (o) => outcomes.push(o), () => !lane.idle);
    await real.classify(['good one']); // its turn of the lane ends just after: the shadow's timer comes later
    runner.start(noContext, job(shadow, ['good a', 'bad b']));
    await eventually(() => outcomes.length, (n) => n === 1);
    expect(outcomes[0]).toMatchObject({ compared: 2, agreed: 2, skipped: 0 });
    expect(ran).toEqual(['real:good one', 'shadow:good a|bad b']);
  });

  it('without a lane (the edge) runs the shadow whatever else runs, within the in-flight bound', async () => {
    const ran: string[] = [];
    const outcomes: ShadowOutcome[] = [];
    const runner = new ShadowRunner(new SqlRouteStore(sqlite), 1, (o) => outcomes.push(o));
    const shadow = laneClassifier(new BatchLane(), 'shadow', ran);
    runner.start(noContext, job(shadow, ['good a']));
    runner.start(noContext, job(shadow, ['bad b'])); // past the bound of 1: skipped
    await eventually(() => outcomes.length, (n) => n === 2);
    expect(outcomes.map((o) => [o.compared, o.skipped]).sort()).toEqual([[0, 1], [1, 0]]);
  });
});
