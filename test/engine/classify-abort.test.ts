import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClassificationEngine } from '../../functions/engine/classification/classification-engine.js';
import type { SequenceClassifier } from '../../functions/engine/classification/sequence-classifier.js';
import { planOcclusion } from '../../functions/engine/explain/occlusion.js';
import { loadClassifier } from '../../functions/node/load-classifier.js';
import { sst2BertDir, devTsv } from '../paths.js';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

// An explained request's load: the leave-one-word-out variants of SST-2 dev sentences, 400 texts in one call.
async function occlusionVariants(count: number): Promise<string[]> {
  const sentences = (await readFile(devTsv, 'utf8')).split('\n').slice(1).map((line) => line.split('\t')[0]!).filter(Boolean);
  const variants: string[] = [];
  for (const sentence of sentences) {
    variants.push(...planOcclusion(sentence).variants);
    if (variants.length >= count) return variants.slice(0, count);
  }
  throw new Error(`the dev set gives fewer than ${count} variants`);
}

describe('ClassificationEngine with a caller that gives up (sst2-bert)', () => {
  let classifier: SequenceClassifier;
  let rowsRun = 0;
  let variants: string[];

  beforeAll(async () => {
    classifier = await loadClassifier(sst2BertDir, { variant: 'model_quantized', onRun: (rows) => (rowsRun += rows) });
    await classifier.classify(['warm up the session']);
    variants = await occlusionVariants(400);
  }, 60_000);

  it('stops running an aborted call\'s queued texts, and still answers a request queued behind it', async () => {
    const batches: number[] = [];
    let onFirstBatch = () => {};
    const engine = new ClassificationEngine(classifier, {
      // As the Node server runs it (edge-tasks.ts, local-app.ts), with a small batch so that 400 texts take many.
      batching: { maxBatchSize: 16, maxWaitMs: 0, maxQueue: 4_096, maxQueueMs: Infinity, defer: setImmediate,
        onBatchStart: () => onFirstBatch(), onBatch: (size) => batches.push(size) },
    });
    const bystanderTexts = ['a witty , moving film', 'dull and lifeless'];
    const alone = await engine.classify(bystanderTexts);
    await delay(0); // onBatch hears of that batch just after its caller
    const before = rowsRun;
    batches.length = 0;

    const controller = new AbortController();
    const reason = new Error('the client disconnected');
    const explained = engine.classify(variants, { signal: controller.signal }).then(() => 'ran', (e: unknown) => e);
    const bystander = engine.classify(bystanderTexts);
    // The client disconnects while the first batch runs: the abort event comes at the loop's next turn.
    onFirstBatch = () => {
      onFirstBatch = () => {};
      setTimeout(() => controller.abort(reason), 0);
    };

    expect(await explained).toBe(reason);
    const answered = await bystander;
    await delay(50); // time for any batch that would still be queued to start
    const ran = rowsRun - before;
    expect(ran).toBe(batches.reduce((a, b) => a + b, 0)); // every row the model ran went through the batcher
    expect(ran).toBeGreaterThanOrEqual(bystanderTexts.length);
    expect(ran).toBeLessThan(variants.length / 4); // the batch running when the abort came, at most a few: not 400
    expect(batches.at(-1)).toBe(bystanderTexts.length); // the bystander ran next, alone, not behind the variants
    answered.forEach((result, i) => {
      const gap = Math.max(...Array.from(result.logits, (x, k) => Math.abs(x - alone[i]!.logits[k]!)));
      expect(gap).toBeLessThan(1e-4);
    });
    console.log(`aborted during the first batch: ${ran} of ${variants.length + bystanderTexts.length} rows ran, in batches ${JSON.stringify(batches)}`);
  }, 60_000);

  it('runs nothing for a signal that fired before the call, with or without cross-request batching', async () => {
    const reason = new Error('gone');
    const before = rowsRun;
    for (const batchAcrossRequests of [true, false]) {
      const engine = new ClassificationEngine(classifier, { batching: { maxBatchSize: 16, maxWaitMs: 0, maxQueue: 4_096 }, batchAcrossRequests });
      await expect(engine.classify(variants, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    }
    await delay(10);
    expect(rowsRun).toBe(before);
  });
});
