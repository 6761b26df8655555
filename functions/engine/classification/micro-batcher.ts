/**
 * Dynamic micro-batching: items submitted while a batch runs (or within `maxWaitMs` of the first one) are
 * coalesced into the next batch, up to `maxBatchSize`. The queue is bounded; past `maxQueue` pending items a
 * submission is refused at once with QueueFullError so callers can answer 503 with Retry-After.
 *
 * With `maxWaitMs` 0 an idle batcher waits only for `defer`: one turn of the event loop, so that requests read
 * in the same turn share a batch while a lone request pays nothing. Node passes setImmediate (which runs right
 * after the I/O phase); the default, setTimeout(0), works in every runtime.
 */
export interface MicroBatcherOptions {
  maxBatchSize: number;
  maxWaitMs: number;
  maxQueue: number;
  defer?: (run: () => void) => void;
}

export class QueueFullError extends Error {
  override name = 'QueueFullError';
  constructor(readonly retryAfterSeconds: number) {
    super('the model is overloaded: its request queue is full');
  }
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export class MicroBatcher<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private running = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastBatchMs = 0;
  /** Sizes of the batches run so far (bounded), for metrics and tests. */
  readonly batchSizes: number[] = [];

  constructor(
    private readonly runBatch: (items: I[]) => Promise<O[]>,
    private readonly options: MicroBatcherOptions,
    private readonly now: () => number = () => performance.now(),
  ) {}

  submit(items: I[]): Promise<O[]> {
    if (this.queue.length + items.length > this.options.maxQueue) {
      const batchesAhead = Math.ceil(this.queue.length / this.options.maxBatchSize) + 1;
      throw new QueueFullError(Math.max(1, Math.ceil((batchesAhead * this.lastBatchMs) / 1000)));
    }
    const results = items.map((item) => new Promise<O>((resolve, reject) => this.queue.push({ item, resolve, reject })));
    this.schedule();
    return Promise.all(results);
  }

  private deferred = false;

  private schedule(): void {
    if (this.running) return;
    if (this.queue.length >= this.options.maxBatchSize) {
      this.flush();
    } else if (this.options.maxWaitMs > 0) {
      this.timer ??= setTimeout(() => this.flush(), this.options.maxWaitMs);
    } else if (!this.deferred) {
      this.deferred = true;
      (this.options.defer ?? ((run) => setTimeout(run, 0)))(() => {
        this.deferred = false;
        this.flush();
      });
    }
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxBatchSize);
    this.running = true;
    this.batchSizes.push(batch.length);
    if (this.batchSizes.length > 10_000) this.batchSizes.splice(0, 5_000);
    const started = this.now();
    this.runBatch(batch.map((p) => p.item))
      .then((outputs) => {
        if (outputs.length !== batch.length) throw new Error(`batch of ${batch.length} gave ${outputs.length} results`);
        batch.forEach((p, i) => p.resolve(outputs[i]!));
      })
      .catch((error: unknown) => batch.forEach((p) => p.reject(error)))
      .finally(() => {
        this.lastBatchMs = this.now() - started;
        this.running = false;
        // Whatever arrived while this batch ran goes next, without waiting out another window; a full batch
        // goes at once, otherwise after one more turn for requests whose bytes arrived during the run.
        if (this.queue.length >= this.options.maxBatchSize) this.flush();
        else if (this.queue.length > 0 && this.options.maxWaitMs > 0) this.flush();
        else if (this.queue.length > 0) this.schedule();
      });
  }
}
