import { describe, expect, it } from 'vitest';
import { JobQueue, QueueClosedError } from '../../functions/tuning/jobs/job-queue.js';

/** A run that waits until released (or aborted), recording when it started and how it ended. */
function gate() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return { released, release };
}

function recorder() {
  const log: string[] = [];
  const gates = new Map<string, ReturnType<typeof gate>>();
  const run = (id: string) => async (signal: AbortSignal) => {
    log.push(`start ${id}`);
    const g = gate();
    gates.set(id, g);
    const aborted = new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    try {
      await Promise.race([g.released, aborted]);
      log.push(`end ${id}`);
    } catch (reason) {
      log.push(`abort ${id}: ${(reason as Error).message}`);
    }
  };
  return { log, run, release: (id: string) => gates.get(id)!.release() };
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('JobQueue', () => {
  it('runs one at a time by default, first in first out', async () => {
    const queue = new JobQueue();
    const { log, run, release } = recorder();
    for (const id of ['a', 'b', 'c']) queue.enqueue(id, run(id));
    await turn();
    expect(log).toEqual(['start a']);
    expect([queue.active, queue.pending]).toEqual([1, 2]);
    release('a');
    await turn();
    expect(log).toEqual(['start a', 'end a', 'start b']);
    release('b');
    await turn();
    release('c');
    await queue.drain();
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('runs up to its concurrency at once', async () => {
    const queue = new JobQueue({ concurrency: 2 });
    const { log, run, release } = recorder();
    for (const id of ['a', 'b', 'c']) queue.enqueue(id, run(id));
    await turn();
    expect(log).toEqual(['start a', 'start b']);
    release('b');
    await turn();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    release('a');
    release('c');
    await queue.drain();
    expect(queue.active + queue.pending).toBe(0);
  });

  it('cancels a waiting run before it starts and aborts a running one with the reason given', async () => {
    const queue = new JobQueue();
    const { log, run } = recorder();
    queue.enqueue('a', run('a'));
    queue.enqueue('b', run('b'));
    await turn();
    expect(queue.cancel('b')).toBe('dequeued');
    expect(queue.cancel('a', new Error('user cancelled'))).toBe('aborted');
    await queue.settled('a');
    expect(log).toEqual(['start a', 'abort a: user cancelled']);
    expect(queue.cancel('a')).toBe('absent');
    expect(queue.has('b')).toBe(false);
    await queue.drain();
  });

  it('refuses an id it already holds', async () => {
    const queue = new JobQueue();
    const { run, release } = recorder();
    queue.enqueue('a', run('a'));
    expect(() => queue.enqueue('a', run('a'))).toThrow(/already queued/);
    await turn();
    release('a');
    await queue.drain();
  });

  it('reports what a run throws and goes on with the next', async () => {
    const errors: string[] = [];
    const queue = new JobQueue({ onRunError: (id, error) => errors.push(`${id}: ${(error as Error).message}`) });
    const { log, run, release } = recorder();
    queue.enqueue('bad', async () => {
      throw new Error('boom');
    });
    queue.enqueue('good', run('good'));
    await turn();
    await turn();
    release('good');
    await queue.drain();
    expect(errors).toEqual(['bad: boom']);
    expect(log).toEqual(['start good', 'end good']);
  });

  it('close() drops waiting runs, aborts running ones, waits for them and takes no more', async () => {
    const queue = new JobQueue();
    const { log, run } = recorder();
    queue.enqueue('a', run('a'));
    queue.enqueue('b', run('b'));
    await turn();
    const closed = await queue.close(new Error('shutting down'));
    expect(closed).toEqual({ dropped: ['b'], aborted: ['a'] });
    expect(log).toEqual(['start a', 'abort a: shutting down']);
    expect(() => queue.enqueue('c', run('c'))).toThrow(QueueClosedError);
    await queue.drain();
  });

  it('refuses a concurrency that is not a positive integer', () => {
    expect(() => new JobQueue({ concurrency: 0 })).toThrow(RangeError);
    expect(() => new JobQueue({ concurrency: 1.5 })).toThrow(RangeError);
  });
});
