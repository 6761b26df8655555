// The registry's real engines on native onnxruntime (which could run their batches at once) over one BatchLane, as
// the Node server loads them: both classifiers and the encoder that tenants' fine-tuned models run on.
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchLane } from '../../functions/engine/classification/batch-lane.js';
import { QueueDeadlineError } from '../../functions/engine/classification/micro-batcher.js';
import type { EdgeEngines } from '../../functions/engine/loading/edge-tasks.js';
import { loadAllEngines, readLocalRegistry } from '../../functions/node/local-app.js';

const filler = ' the film goes on and on ,'.repeat(10);
const texts = Array.from({ length: 64 }, (_, i) => `a ${i % 2 ? 'dull' : 'wonderful'} film${filler} take ${i} .`);
const ENCODER_DEADLINE_MS = 20;

let active = 0;
let most = 0;
/** The engines over one lane; the encoder's deadline as given, the classifiers' long. */
const loadOverOneLane = async (encoderDeadlineMs: number) => {
  const lane = new BatchLane();
  return loadAllEngines(await readLocalRegistry(), 'node', (model) => ({
    lane,
    maxQueueMs: model.task === 'feature-extraction' ? encoderDeadlineMs : 60_000,
    onBatchStart: () => (most = Math.max(most, ++active)),
    onBatch: () => active--,
  }));
};

let engines: EdgeEngines;
let shortDeadline: EdgeEngines;
beforeAll(async () => {
  engines = await loadOverOneLane(60_000);
  // The encoder's deadline is short there, so that queued classifications alone exceed it.
  shortDeadline = await loadOverOneLane(ENCODER_DEADLINE_MS);
}, 120_000);

const classifier = (ref: string, from = engines) => from['text-classification'].get(ref)!;
const encoder = (from = engines) => from['feature-extraction'].get('electra-imdb-small@1')!;

describe('one lane over the registry engines', () => {
  it('runs one batch at a time across both classifiers and the encoder, each caller getting its own answers', async () => {
    const bilstm = classifier('sst2-glove-bilstm@2');
    const bert = classifier('sst2-bert@3');
    const [aloneBilstm, aloneBert, aloneEncoder] = [await bilstm.classify(texts), await bert.classify(texts), await encoder().embed(texts)];
    most = 0;
    const calls = await Promise.all(Array.from({ length: 4 }, () => Promise.all([bilstm.classify(texts), bert.classify(texts), encoder().embed(texts)])));
    expect(most).toBe(1);
    for (const [a, b, c] of calls) {
      a.forEach((r, i) => expect(Array.from(r.logits)).toEqual(Array.from(aloneBilstm[i]!.logits).map((x) => expect.closeTo(x, 4))));
      b.forEach((r, i) => expect(Array.from(r.logits)).toEqual(Array.from(aloneBert[i]!.logits).map((x) => expect.closeTo(x, 4))));
      c.forEach((r, i) => expect(r.vector[0]).toBeCloseTo(aloneEncoder[i]!.vector[0]!, 4));
    }
  }, 120_000);

  it("refuses the tenants' encoder while the classifiers' queued work exceeds its deadline, and serves it once drained", async () => {
    const bert = classifier('sst2-bert@3', shortDeadline);
    const tenants = encoder(shortDeadline);
    // Measured batches for every cost model (an engine's first run, its warm-up, is not one to plan with).
    for (let i = 0; i < 2; i++) {
      await bert.classify(texts);
      await tenants.embed(texts.slice(0, 1));
    }
    const queued = Array.from({ length: 6 }, () => bert.classify(texts));
    await expect(tenants.embed(texts.slice(0, 1))).rejects.toBeInstanceOf(QueueDeadlineError);
    await Promise.all(queued);
    expect(await tenants.embed(texts.slice(0, 1))).toHaveLength(1);
  }, 120_000);
});
