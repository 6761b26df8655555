import { describe, expect, it } from 'vitest';
import { MicroBatcher, QueueFullError } from '../../functions/engine/classification/micro-batcher.js';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

function doubler(ms = 5) {
  return new MicroBatcher<number, number>(async (xs) => {
    await delay(ms);
    return xs.map((x) => x * 2);
  }, { maxBatchSize: 8, maxWaitMs: 2, maxQueue: 20 });
}

describe('MicroBatcher', () => {
  it('coalesces concurrent submissions into batches and returns each caller its own results', async () => {
    const batcher = doubler();
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => batcher.submit([i])));
    expect(results).toEqual(Array.from({ length: 16 }, (_, i) => [i * 2]));
    expect(batcher.batchSizes.reduce((a, b) => a + b, 0)).toBe(16);
    expect(Math.max(...batcher.batchSizes)).toBe(8);
    expect(batcher.batchSizes.length).toBeLessThanOrEqual(3);
  });

  it('keeps a multi-item request in order', async () => {
    expect(await doubler().submit([1, 2, 3])).toEqual([2, 4, 6]);
  });

  it('refuses waiting work beyond the queue bound with a retry hint, and recovers', async () => {
    const batcher = doubler(20);
    const running = batcher.submit(Array.from({ length: 8 }, (_, i) => i)); // a full batch starts at once
    const waiting = batcher.submit(Array.from({ length: 20 }, (_, i) => i)); // fills the queue
    let refusal: unknown;
    try {
      batcher.submit([1]);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(QueueFullError);
    expect((refusal as QueueFullError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    await Promise.all([running, waiting]);
    expect(await batcher.submit([21])).toEqual([42]);
  });

  it('rejects every caller of a failed batch and keeps serving', async () => {
    let fail = true;
    const batcher = new MicroBatcher<number, number>(async (xs) => {
      if (fail) throw new Error('engine failed');
      return xs;
    }, { maxBatchSize: 4, maxWaitMs: 1, maxQueue: 10 });
    const calls = [batcher.submit([1]), batcher.submit([2])];
    await expect(Promise.all(calls)).rejects.toThrow('engine failed');
    fail = false;
    expect(await batcher.submit([3])).toEqual([3]);
  });

  it('without a window, batches what arrives in one event-loop turn and what arrives while a batch runs', async () => {
    const deferred: (() => void)[] = [];
    let release: () => void = () => {};
    const batcher = new MicroBatcher<number, number>(async (xs) => {
      await new Promise<void>((r) => (release = r));
      return xs;
    }, { maxBatchSize: 8, maxWaitMs: 0, maxQueue: 100, defer: (run) => deferred.push(run) });
    const first = [batcher.submit([1]), batcher.submit([2]), batcher.submit([3])];
    expect(deferred).toHaveLength(1); // one turn is awaited for all three, not one each
    expect(batcher.batchSizes).toEqual([]);
    deferred.shift()!();
    expect(batcher.batchSizes).toEqual([3]);
    const second = [4, 5, 6, 7, 8].map((x) => batcher.submit([x]));
    expect(deferred).toHaveLength(0); // a batch is running: the newcomers wait for it, not for a turn
    release();
    expect(await Promise.all(first)).toEqual([[1], [2], [3]]);
    await Promise.resolve();
    expect(deferred).toHaveLength(1); // after the run, one turn lets bytes that arrived during it join
    deferred.shift()!();
    expect(batcher.batchSizes).toEqual([3, 5]);
    release();
    expect(await Promise.all(second)).toEqual([[4], [5], [6], [7], [8]]);
  });
});
