import { describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { MicroBatcher, QueueDeadlineError } from '../../functions/engine/classification/micro-batcher.js';
import { QueueFullError } from '../../functions/engine/tasks/queue-full-error.js';

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

function doubler(ms = 5, onBatchStart?: (size: number) => void) {
  return new MicroBatcher<number, number>(async (xs) => {
    await delay(ms);
    return xs.map((x) => x * 2);
  }, { maxBatchSize: 8, maxWaitMs: 2, maxQueue: 20, onBatchStart });
}

describe('MicroBatcher', () => {
  it('coalesces concurrent submissions into batches and returns each caller its own results', async () => {
    const batchSizes: number[] = [];
    const batcher = doubler(5, (size) => batchSizes.push(size));
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => batcher.submit([i])));
    expect(results).toEqual(Array.from({ length: 16 }, (_, i) => [i * 2]));
    expect(batchSizes.reduce((a, b) => a + b, 0)).toBe(16);
    expect(Math.max(...batchSizes)).toBe(8);
    expect(batchSizes.length).toBeLessThanOrEqual(3);
  });

  it('keeps a multi-item request in order', async () => {
    expect(await doubler().submit([1, 2, 3])).toEqual([2, 4, 6]);
  });

  it('refuses waiting work beyond the queue bound with a retry hint, and recovers', async () => {
    const batcher = doubler(20);
    const running = batcher.submit(Array.from({ length: 8 }, (_, i) => i)); // a full batch starts after one turn
    await delay(1);
    const waiting = batcher.submit(Array.from({ length: 20 }, (_, i) => i)); // fills the queue
    const refusal = refusalOf(() => batcher.submit([1]));
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

  it('tells onBatch the size and run time of every batch once it has run, a failed one too', async () => {
    let clock = 0;
    let fail = false;
    const ran: [number, number][] = [];
    const batcher = new MicroBatcher<number, number>(async (xs) => {
      clock += 7;
      if (fail) throw new Error('engine failed');
      return xs;
    }, { maxBatchSize: 4, maxWaitMs: 0, maxQueue: 10, onBatch: (size, ms) => ran.push([size, ms]) }, () => clock);
    await Promise.all([batcher.submit([1, 2]), batcher.submit([3])]);
    fail = true;
    await expect(batcher.submit([4])).rejects.toThrow('engine failed');
    await delay(0);
    expect(ran).toEqual([[3, 7], [1, 7]]);
  });

  it('without a window, batches what arrives in one event-loop turn and what arrives while a batch runs', async () => {
    const deferred: (() => void)[] = [];
    let release: () => void = () => {};
    const batchSizes: number[] = [];
    const batcher = new MicroBatcher<number, number>(async (xs) => {
      await new Promise<void>((r) => (release = r));
      return xs;
    }, { maxBatchSize: 8, maxWaitMs: 0, maxQueue: 100, defer: (run) => deferred.push(run), onBatchStart: (size) => batchSizes.push(size) }, () => 0); // time stands still
    const first = [batcher.submit([1]), batcher.submit([2]), batcher.submit([3])];
    expect(deferred).toHaveLength(1); // one turn is awaited for all three, not one each
    expect(batchSizes).toEqual([]);
    deferred.shift()!();
    expect(batchSizes).toEqual([3]);
    const second = [4, 5, 6, 7, 8].map((x) => batcher.submit([x]));
    expect(deferred).toHaveLength(0); // a batch is running: the newcomers wait for it, not for a turn
    release();
    expect(await Promise.all(first)).toEqual([[1], [2], [3]]);
    await Promise.resolve();
    // After the run, turns until two in a row were quiet let requests that arrived during it be read first.
    expect(deferred).toHaveLength(1);
    deferred.shift()!();
    expect(batchSizes).toEqual([3]);
    const late = batcher.submit([9]); // read in the first turn after the run: the next quiet turn is not enough
    deferred.shift()!();
    expect(batchSizes).toEqual([3]);
    deferred.shift()!();
    expect(batchSizes).toEqual([3]);
    deferred.shift()!();
    expect(batchSizes).toEqual([3, 6]);
    release();
    expect(await Promise.all(second)).toEqual([[4], [5], [6], [7], [8]]);
    expect(await late).toEqual([9]);
  });

  // A batcher on a hand-driven clock and event loop: every batch takes exactly what the test says.
  function driven(options: { maxBatchSize: number; maxQueueMs: number; weight?: (item: number) => number }) {
    let clock = 0;
    const deferred: (() => void)[] = [];
    const releases: (() => void)[] = [];
    const batchSizes: number[] = [];
    const batcher = new MicroBatcher<number, number>(async (xs) => {
      await new Promise<void>((r) => releases.push(r));
      return xs.map((x) => -x);
    }, { maxWaitMs: 0, maxQueue: 10_000, defer: (run) => deferred.push(run), onBatchStart: (size) => batchSizes.push(size), ...options }, () => clock);
    /** The running batch ends after `ms` (and its callers hear of it). */
    const complete = async (ms: number) => {
      clock += ms;
      releases.shift()!();
      await new Promise((r) => setTimeout(r, 0));
    };
    /** One turn of the event loop: what the batcher deferred runs. */
    const turn = () => deferred.splice(0).forEach((run) => run());
    /** The turns after a run, until two in a row were quiet. */
    const quiet = () => {
      turn();
      turn();
    };
    const finish = async (ms: number) => {
      await complete(ms);
      quiet();
    };
    return { batcher, batchSizes, deferred, complete, turn, quiet, finish };
  }

  it('refuses at once a submission that would wait past maxQueueMs, estimated from the batches it measured', async () => {
    const { batcher, finish, turn } = driven({ maxBatchSize: 4, maxQueueMs: 250 });
    const cold = batcher.submit([0]);
    turn();
    await finish(5_000); // the first run (lazy initialisation) is not measured
    expect(await cold).toEqual([-0]);
    const first = batcher.submit([1, 2, 3, 4]);
    turn();
    await finish(100); // measured: 100 ms for 4 items
    expect(await first).toEqual([-1, -2, -3, -4]);
    const running = batcher.submit([5, 6, 7, 8]);
    turn();
    // 100 ms left of the running batch, then one batch of 4 per 100 ms: two more requests fit in 250 ms.
    const accepted = [batcher.submit([9, 10, 11, 12]), batcher.submit([13, 14, 15, 16])];
    const refusal = refusalOf(() => batcher.submit([17]));
    expect(refusal).toBeInstanceOf(QueueDeadlineError);
    expect(refusal).toBeInstanceOf(QueueFullError); // the routes answer every QueueFullError with 503
    expect((refusal as QueueFullError).retryAfterSeconds).toBe(1);
    expect((refusal as Error).message).toMatch(/250 ms/);
    await finish(100);
    await finish(100);
    await finish(100);
    expect(await running).toEqual([-5, -6, -7, -8]);
    expect(await Promise.all(accepted)).toEqual([[-9, -10, -11, -12], [-13, -14, -15, -16]]);
  });

  it('weighs items by their cost: many light items after heavy batches fit, a heavy backlog is still refused', async () => {
    // An item's value is its weight: 100 for a long text, 1 for a short one.
    const { batcher, finish, turn } = driven({ maxBatchSize: 4, maxQueueMs: 250, weight: (x) => x });
    const cold = batcher.submit([1]);
    turn();
    await finish(5_000);
    await cold;
    for (let i = 0; i < 3; i++) {
      const heavy = batcher.submit([100, 100, 100, 100]);
      turn();
      await finish(100); // 100 ms for a weight of 400
      await heavy;
    }
    // 16 light items: 4 batches, 3 of them ahead of the last. Counted as items, each was priced at 100 ms (300 ms,
    // past the deadline); weighed, each costs 1 ms.
    const light = Array.from({ length: 16 }, () => 1);
    const accepted = batcher.submit(light);
    // Behind them, 16 heavy items: the 4 light batches and 3 heavy ones ahead of their last, 304 ms: refused.
    const refusal = refusalOf(() => batcher.submit(Array.from({ length: 16 }, () => 100)));
    expect(refusal).toBeInstanceOf(QueueDeadlineError);
    expect((refusal as QueueFullError).retryAfterSeconds).toBe(1);
    // 8 heavy items: the light batches and one heavy batch ahead of their last, 104 ms: fit.
    const heavyFits = batcher.submit(Array.from({ length: 8 }, () => 100));
    turn();
    for (let i = 0; i < 6; i++) await finish(i < 4 ? 1 : 100);
    expect(await accepted).toEqual(light.map((x) => -x));
    expect(await heavyFits).toEqual(Array.from({ length: 8 }, () => -100));
  });

  it('sheds a request whose deadline passed while it waited, without running it, and keeps serving', async () => {
    const { batcher, batchSizes, finish, turn } = driven({ maxBatchSize: 2, maxQueueMs: 50 });
    const running = batcher.submit([1, 2]); // nothing measured yet: everything is accepted
    turn();
    const outcome = batcher.submit([3, 4, 5]).then(() => 'ran', (error: unknown) => error);
    await finish(80); // the first batch took longer than the second request may wait
    expect(await running).toEqual([-1, -2]);
    expect(await outcome).toBeInstanceOf(QueueDeadlineError);
    expect(batchSizes).toEqual([2]); // none of its items ran
    const next = batcher.submit([6]);
    turn(); // an idle batcher waits one turn for company
    await finish(1);
    expect(await next).toEqual([-6]);
    expect(batchSizes).toEqual([2, 1]);
  });

  it('yields to the event loop before every batch, even when full batches wait', async () => {
    const { batcher, batchSizes, complete, turn, quiet } = driven({ maxBatchSize: 2, maxQueueMs: Infinity });
    const all = batcher.submit([1, 2, 3, 4, 5, 6]);
    expect(batchSizes).toEqual([]); // not even a full batch starts inside submit()
    turn();
    expect(batchSizes).toEqual([2]);
    await complete(10);
    expect(batchSizes).toEqual([2]); // requests that arrived during the run are read first
    turn();
    expect(batchSizes).toEqual([2]);
    turn();
    expect(batchSizes).toEqual([2, 2]);
    await complete(10);
    quiet();
    await complete(10);
    expect(await all).toEqual([-1, -2, -3, -4, -5, -6]);
  });
});

describe('MicroBatcher with an AbortSignal', () => {
  // A batcher on a hand-driven event loop that records the items of every batch it runs.
  function recording(options: { maxBatchSize: number; maxQueue: number }) {
    const deferred: (() => void)[] = [];
    const releases: (() => void)[] = [];
    const ran: number[][] = [];
    const batcher = new MicroBatcher<number, number>(async (xs) => {
      ran.push(xs);
      await new Promise<void>((r) => releases.push(r));
      return xs.map((x) => -x);
    }, { maxWaitMs: 0, maxQueueMs: Infinity, defer: (run) => deferred.push(run), ...options }, () => 0);
    const turn = () => deferred.splice(0).forEach((run) => run());
    /** The running batch ends, its callers hear of it, and the turns after it pass until the next batch starts. */
    const finish = async () => {
      releases.shift()!();
      await new Promise((r) => setTimeout(r, 0));
      turn();
      turn();
      turn();
    };
    return { batcher, ran, deferred, turn, finish };
  }

  /** What a promise has come to by the next macrotask ('pending', or its value / rejection reason): batches move on only by hand. */
  async function settled<T>(promise: Promise<T>): Promise<T | unknown> {
    const pending = Symbol('pending');
    const outcome = await Promise.race([promise.then((v) => v, (e: unknown) => e), delay(0).then(() => pending)]);
    return outcome === pending ? 'pending' : outcome;
  }

  it('drops a submission queued behind a running batch: its items never run, and the queue bound frees at once', async () => {
    const { batcher, ran, turn, finish } = recording({ maxBatchSize: 2, maxQueue: 4 });
    const first = batcher.submit([1, 2]);
    turn();
    expect(ran).toEqual([[1, 2]]);
    const controller = new AbortController();
    const gaveUp = batcher.submit([3, 4, 5], controller.signal);
    const after = batcher.submit([6]);
    expect(refusalOf(() => batcher.submit([7]))).toBeInstanceOf(QueueFullError); // 4 queued: the bound is reached
    const reason = new Error('the client went away');
    controller.abort(reason);
    expect(await settled(gaveUp)).toBe(reason); // at once, while [1, 2] still runs
    expect(await settled(first)).toBe('pending');
    const more = batcher.submit([7, 8, 9]); // 1 queued now: fits again
    await finish();
    expect(await first).toEqual([-1, -2]);
    await finish();
    await finish();
    expect(await after).toEqual([-6]);
    expect(await more).toEqual([-7, -8, -9]);
    expect(ran).toEqual([[1, 2], [6, 7], [8, 9]]);
  });

  it('rejects a submission whose batch already started at once, drops its queued rest, and answers the others', async () => {
    const { batcher, ran, turn, finish } = recording({ maxBatchSize: 2, maxQueue: 100 });
    const controller = new AbortController();
    const answered: string[] = [];
    const gaveUp = batcher.submit([1, 2, 3], controller.signal).then(() => 'ran', (e: unknown) => e);
    const second = batcher.submit([4]).then((r) => (answered.push('second'), r));
    const third = batcher.submit([5, 6]).then((r) => (answered.push('third'), r));
    turn();
    expect(ran).toEqual([[1, 2]]);
    controller.abort();
    expect(await settled(gaveUp)).toBeInstanceOf(DOMException); // abort()'s default reason: an AbortError
    expect(((await gaveUp) as DOMException).name).toBe('AbortError');
    await finish(); // [1, 2] ran on; its results are dropped
    await finish();
    await finish();
    expect(ran).toEqual([[1, 2], [4, 5], [6]]); // 3 never ran
    expect(await second).toEqual([-4]);
    expect(await third).toEqual([-5, -6]);
    expect(answered).toEqual(['second', 'third']);
  });

  it('refuses an already-aborted signal without queuing anything, even past the bound', async () => {
    const { batcher, ran, deferred } = recording({ maxBatchSize: 2, maxQueue: 1 });
    const reason = new Error('gone before it started');
    const refused = batcher.submit([1, 2, 3], AbortSignal.abort(reason));
    await expect(refused).rejects.toBe(reason);
    expect(deferred).toHaveLength(0);
    expect(ran).toEqual([]);
  });

  it('removes its abort listener when a submission settles, so one long-lived signal gathers none', async () => {
    let fail = false;
    const batcher = new MicroBatcher<number, number>(async (xs) => {
      await delay(0);
      if (fail) throw new Error('engine failed');
      return xs;
    }, { maxBatchSize: 16, maxWaitMs: 0, maxQueue: 1_000 });
    const { signal } = new AbortController(); // a trainer's, say: one signal over a long run of calls
    const concurrent = Array.from({ length: 5 }, (_, i) => batcher.submit([i], signal));
    expect(getEventListeners(signal, 'abort')).toHaveLength(5);
    expect(await Promise.all(concurrent)).toEqual([[0], [1], [2], [3], [4]]);
    for (let i = 0; i < 200; i++) expect(await batcher.submit([i, i + 1], signal)).toEqual([i, i + 1]);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    fail = true;
    await expect(batcher.submit([1], signal)).rejects.toThrow('engine failed');
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});
