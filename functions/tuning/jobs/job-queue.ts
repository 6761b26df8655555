/**
 * One deployment's queue of runs: first in, first out, at most `concurrency` at once. Each run gets its own
 * AbortSignal, which cancel() and close() abort with a reason the run can tell apart. No model code here: a run is
 * any `(signal) => Promise<void>`; what it does with a job is the service's concern.
 */
export type QueuedRun = (signal: AbortSignal) => Promise<void>;

export interface JobQueueOptions {
  /** Runs at once; default 1 (training takes the CPU that serving also needs). */
  concurrency?: number;
  /** What a run throws is its own to handle; whatever escapes is reported here, never left unhandled. */
  onRunError?: (id: string, error: unknown) => void;
}

export class QueueClosedError extends Error {
  override name = 'QueueClosedError';
}

interface Running {
  controller: AbortController;
  done: Promise<void>;
}

export class JobQueue {
  private readonly concurrency: number;
  private readonly waiting: { id: string; run: QueuedRun }[] = [];
  private readonly running = new Map<string, Running>();
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly options: JobQueueOptions = {}) {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, not ${concurrency}`);
    this.concurrency = concurrency;
  }

  /** Runs not started yet. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Runs started and not yet settled. */
  get active(): number {
    return this.running.size;
  }

  has(id: string): boolean {
    return this.running.has(id) || this.waiting.some((w) => w.id === id);
  }

  /** Queues a run under an id; refused once closed, or while the id is already queued or running. */
  enqueue(id: string, run: QueuedRun): void {
    if (this.closed) throw new QueueClosedError('the job queue is closed');
    if (this.has(id)) throw new Error(`${id} is already queued`);
    this.waiting.push({ id, run });
    this.pump();
  }

  /**
   * 'dequeued': it had not started and never will; 'aborted': its signal is aborted with `reason` (await
   * settled(id) for it to stop); 'absent': the queue has no such run.
   */
  cancel(id: string, reason: unknown = new Error('cancelled')): 'dequeued' | 'aborted' | 'absent' {
    const index = this.waiting.findIndex((w) => w.id === id);
    if (index >= 0) {
      this.waiting.splice(index, 1);
      this.notifyIfIdle();
      return 'dequeued';
    }
    const running = this.running.get(id);
    if (!running) return 'absent';
    running.controller.abort(reason);
    return 'aborted';
  }

  /** Resolves once the run of that id has ended (at once when none is running). */
  settled(id: string): Promise<void> {
    return this.running.get(id)?.done ?? Promise.resolve();
  }

  /** Resolves when nothing waits and nothing runs. */
  drain(): Promise<void> {
    if (this.waiting.length === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Takes no more runs, drops the waiting ones and aborts the running ones with `reason`, then waits for those to
   * end. Returns the ids that were waiting (never started) and those that were running, for the caller to record.
   */
  async close(reason: unknown = new Error('the job queue closed')): Promise<{ dropped: string[]; aborted: string[] }> {
    this.closed = true;
    const dropped = this.waiting.splice(0).map((w) => w.id);
    const aborted = [...this.running.keys()];
    for (const running of this.running.values()) running.controller.abort(reason);
    await Promise.all([...this.running.values()].map((r) => r.done));
    this.notifyIfIdle();
    return { dropped, aborted };
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.concurrency && this.waiting.length > 0) {
      const { id, run } = this.waiting.shift()!;
      const controller = new AbortController();
      // Started on a later microtask, so that enqueue() never runs a job's code inside its caller.
      const done = Promise.resolve()
        .then(() => run(controller.signal))
        .catch((error: unknown) => this.options.onRunError?.(id, error))
        .finally(() => {
          this.running.delete(id);
          this.pump();
          this.notifyIfIdle();
        });
      this.running.set(id, { controller, done });
    }
  }

  private notifyIfIdle(): void {
    if (this.waiting.length > 0 || this.running.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
