// Micro-batchers sharing one BatchLane: one batch at a time across them, and admission over all their work.
import { describe, expect, it } from 'vitest';
import { BatchLane } from '../../functions/engine/classification/batch-lane.js';
import { MicroBatcher, QueueDeadlineError } from '../../functions/engine/classification/micro-batcher.js';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What `submit` throws at once (a refusal), or undefined when it accepts the work. */
function refusalOf(submit: () => unknown): unknown {
  try {
    submit();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** A clock that only the batches move: each batch of a batcher "takes" its `ms`. */
function fakeTime() {
  let clock = 0;
  return {
    now: () => clock,
    batcher(name: string, ms: number, options: { lane?: BatchLane; maxQueueMs?: number; maxBatchSize?: number; ran?: string[] } = {}) {
      return new MicroBatcher<number, number>(async (xs) => {
        options.ran?.push(name);
        await delay(1);
        clock += ms;
        return xs.map((x) => x * 2);
      }, { maxBatchSize: options.maxBatchSize ?? 1, maxWaitMs: 0, maxQueue: 100, maxQueueMs: options.maxQueueMs, lane: options.lane }, () => clock);
    },
  };
}

/** Three batches, so that the cost model has two measured ones (the first run is not one to plan with). */
async function warm(batcher: MicroBatcher<number, number>) {
  for (let i = 0; i < 3; i++) await batcher.submit([i]);
}

describe('BatchLane', () => {
  it('refuses a submission to an idle model when the other models of its lane hold more work than the deadline', async () => {
    for (const shared of [true, false]) {
      const time = fakeTime();
      const lane = new BatchLane();
      const slow = time.batcher('slow', 100, { lane, maxQueueMs: 450 });
      // Apart, on a clock of its own: its batches would not delay the slow model's on this fake clock.
      const fast = (shared ? time : fakeTime()).batcher('fast', 100, { lane: shared ? lane : undefined, maxQueueMs: 450 });
      await warm(slow);
      await warm(fast);
      // Five batches of 100 ms queued for the slow model: its own fifth waits 400 ms, within the deadline.
      const queued = Array.from({ length: 5 }, (_, i) => slow.submit([i]));
      const refusal = refusalOf(() => fast.submit([1]));
      if (shared) {
        // The fast model's batch would start after the 500 ms the lane holds: past the deadline, whatever model.
        expect(refusal).toBeInstanceOf(QueueDeadlineError);
        expect((refusal as QueueDeadlineError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
      } else {
        expect(refusal).toBeUndefined();
      }
      expect(await Promise.all(queued)).toEqual([[0], [2], [4], [6], [8]]);
      // The lane drained: the fast model is served again.
      expect(await fast.submit([3])).toEqual([6]);
    }
  });

  it('runs one batch at a time across its batchers, the models taking turns, each caller getting its own results', async () => {
    const lane = new BatchLane();
    let active = 0;
    let most = 0;
    const owners: string[] = [];
    const model = (name: string, factor: number) => new MicroBatcher<number, number>(async (xs) => {
      owners.push(name);
      most = Math.max(most, ++active);
      await delay(3);
      active--;
      return xs.map((x) => x * factor);
    }, { maxBatchSize: 2, maxWaitMs: 0, maxQueue: 100, lane });
    const a = model('a', 2);
    const b = model('b', 3);
    const results = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => a.submit([i])),
      ...Array.from({ length: 8 }, (_, i) => b.submit([i])),
    ]);
    expect(results).toEqual([...Array.from({ length: 8 }, (_, i) => [i * 2]), ...Array.from({ length: 8 }, (_, i) => [i * 3])]);
    expect(most).toBe(1);
    expect(owners).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
  });

  it('gives a deadline to a submission that finds its own batcher idle but the lane busy, and sheds it once it passes', async () => {
    for (const shared of [true, false]) {
      const time = fakeTime();
      const lane = new BatchLane();
      // Never measured before (no prediction yet): only the deadline can tell that the slow batch made it wait.
      const slow = time.batcher('slow', 1_000, { lane, maxQueueMs: 100 });
      const fast = time.batcher('fast', 10, { lane: shared ? lane : undefined, maxQueueMs: 100 });
      const running = slow.submit([1]);
      await delay(0); // the slow batch starts
      const waiting = fast.submit([2]);
      expect(await running).toEqual([2]);
      if (shared) await expect(waiting).rejects.toBeInstanceOf(QueueDeadlineError);
      else expect(await waiting).toEqual([4]);
    }
  });

  it('keeps the lane going when a batch throws instead of rejecting', async () => {
    const lane = new BatchLane();
    const broken = new MicroBatcher<number, number>(() => {
      throw new Error('engine failed');
    }, { maxBatchSize: 4, maxWaitMs: 0, maxQueue: 10, lane });
    const working = new MicroBatcher<number, number>(async (xs) => xs, { maxBatchSize: 4, maxWaitMs: 0, maxQueue: 10, lane });
    await expect(broken.submit([1])).rejects.toThrow('engine failed');
    expect(await working.submit([5])).toEqual([5]);
    await delay(0);
    expect(lane.idle).toBe(true);
  });

  it('hands a turn on once, however often it is ended', () => {
    const lane = new BatchLane();
    const started: string[] = [];
    let first = () => {};
    lane.enter((end) => {
      started.push('a');
      first = end;
    });
    lane.enter(() => started.push('b'));
    lane.enter(() => started.push('c'));
    first();
    first();
    expect(started).toEqual(['a', 'b']);
  });
});
