/**
 * Usage records written by the request they belong to, one write each, for runtimes where I/O belongs to a request
 * (Workers: a D1 call started for one request and awaited by another is refused, and a request waiting on another's
 * I/O is taken for hung). The write is retried in the same request; its promise goes to that request's waitUntil.
 * A record no attempt could write goes to `park` where one is given, else it is reported to onError (lost).
 */
import type { BillingStore, UsageRecord } from './types.js';
import type { UsageSink } from './usage-writer.js';

export class RequestUsageWriter implements UsageSink {
  constructor(
    private readonly store: BillingStore,
    private readonly options: {
      attempts: number;
      backoffMs: number;
      onError?: (error: unknown) => void;
      /** Where a record goes when every attempt failed (the Worker: the key's Durable Object, which writes it later). */
      park?: (record: UsageRecord) => Promise<void>;
    },
  ) {}

  async record(record: UsageRecord): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.insertUsage([record]); // a retried write counts once (insertUsage is idempotent per id)
        return;
      } catch (error) {
        if (attempt >= this.options.attempts) {
          this.options.onError?.(error);
          if (this.options.park) await this.options.park(record).catch((parkError: unknown) => this.options.onError?.(parkError));
          return;
        }
        await new Promise((r) => setTimeout(r, this.options.backoffMs * attempt));
      }
    }
  }

  /** Nothing is queued: each record is written by its own request. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
