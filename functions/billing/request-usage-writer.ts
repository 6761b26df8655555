/**
 * Usage records written by the request they belong to, one write each, for runtimes where I/O belongs to a request
 * (Workers: a D1 call started for one request and awaited by another is refused, and a request waiting on another's
 * I/O is taken for hung). The write is retried in the same request; its promise goes to that request's waitUntil.
 */
import type { BillingStore, UsageRecord } from './types.js';
import type { UsageSink } from './usage-writer.js';

export class RequestUsageWriter implements UsageSink {
  constructor(
    private readonly store: BillingStore,
    private readonly options: { attempts: number; backoffMs: number; onError?: (error: unknown) => void },
  ) {}

  async record(record: UsageRecord): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.insertUsage([record]); // a retried write counts once (insertUsage is idempotent per id)
        return;
      } catch (error) {
        if (attempt >= this.options.attempts) {
          this.options.onError?.(error);
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
