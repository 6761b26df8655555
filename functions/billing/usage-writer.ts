/**
 * Usage records leave the request path at once: they are queued and written in batches (every `intervalMs` or
 * `maxBatch` records). A failed write keeps its records for the next flush; `close()` writes everything left
 * (SIGTERM).
 */
import type { Settlement } from './rate-limiter.js';
import type { BillingStore, UsageRecord } from './types.js';

export interface UsageWriterOptions {
  intervalMs: number;
  maxBatch: number;
  /** Workers: ctx.waitUntil, so the runtime keeps the isolate until the write ends. */
  waitUntil?: (promise: Promise<unknown>) => void;
  onError?: (error: unknown) => void;
  /** After each batch the store accepted, with how many records it held. */
  onWritten?: (count: number) => void;
}

/** Where the billing middleware sends each request's usage record. */
export interface UsageSink {
  /**
   * Queues or writes the record; a promise when the write belongs to the calling request (the Worker's waitUntil).
   * A sink that `settlesLimits` also takes the request's rate-limit settlement with it (the edge: one call to the
   * key's object for both); the middleware then settles nothing itself. `cancels`: the record this request's
   * admission counted already (the edge records a classification with its take), which this one replaces.
   */
  record(record: UsageRecord, settlement?: Settlement | null, cancels?: UsageRecord): void | Promise<void>;
  readonly settlesLimits?: boolean;
  /**
   * Writes what is queued (reports and exports call it first, so that the caller's own requests count); `keyId`:
   * the caller's key, where records wait per key (the edge's key objects).
   */
  flush(keyId?: string | null): Promise<void>;
  close(): Promise<void>;
}

export class UsageWriter implements UsageSink {
  private queue: UsageRecord[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly store: BillingStore, private readonly options: UsageWriterOptions) {}

  /** Records queued and not yet written (the metrics' backlog gauge). */
  get backlog(): number {
    return this.queue.length;
  }

  record(record: UsageRecord): void {
    this.queue.push(record);
    if (this.queue.length >= this.options.maxBatch) this.flushSoon(0);
    else this.flushSoon(this.options.intervalMs);
  }

  private flushSoon(ms: number): void {
    if (this.timer && ms > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      const done = this.flush();
      this.options.waitUntil?.(done);
    }, ms);
  }

  /** Writes what is queued now, after any write in progress. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const batch = this.queue;
      if (batch.length === 0) return;
      this.queue = [];
      try {
        await this.store.insertUsage(batch);
      } catch (error) {
        this.queue = [...batch, ...this.queue];
        this.options.onError?.(error);
        this.flushSoon(this.options.intervalMs * 10);
        return;
      }
      try {
        this.options.onWritten?.(batch.length);
      } catch (error) {
        this.options.onError?.(error); // an observer's failure must not stop the writes after it
      }
    });
    return this.writing;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
    if (this.queue.length > 0) throw new Error(`${this.queue.length} usage records could not be written`);
  }
}
