/**
 * Where the Worker's requests send their usage records: a keyed request's record goes to its key's object
 * (KeyRateLimiter `record`, with the request's token settlement, one call), which counts it in the key's roll-up
 * and writes it to D1 every few seconds; a keyless one (open mode) is written to D1 by its own request
 * (RequestUsageWriter). A record the object could not take after `attempts` calls is written to D1 directly by the
 * request instead (and parked if D1 refuses it too): nothing counted is dropped because the object is unreachable.
 * A record that comes without a request's settlement (`undefined`: a fine-tuning job's, whose budget hold is in D1
 * and is released by its own record's id) is written to D1 directly too. A classification served as admitted sends
 * nothing here (its object counted it with the take); one that ended otherwise sends its record with the one it
 * `cancels`.
 */
import type { Settlement } from '../billing/rate-limiter.js';
import type { RequestUsageWriter } from '../billing/request-usage-writer.js';
import type { UsageRecord } from '../billing/types.js';
import { cancelled } from '../billing/usage-rollup.js';
import type { UsageSink } from '../billing/usage-writer.js';
import type { DurableKeyLimiter } from './key-rate-limiter.js';

export class DurableUsageSink implements UsageSink {
  readonly settlesLimits = true;

  constructor(
    private readonly limiter: DurableKeyLimiter,
    private readonly direct: RequestUsageWriter,
    private readonly options: { attempts: number; backoffMs: number; onError?: (error: unknown) => void },
  ) {}

  async record(record: UsageRecord, settlement?: Settlement | null, cancels?: UsageRecord): Promise<void> {
    // The billing middleware always passes a settlement (null when the request took none); jobs pass none.
    if (record.keyId === null || settlement === undefined) return this.direct.record(record);
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await this.limiter.call({ op: 'record', key: record.keyId, records: [record], settlement, cancels });
        if (!response.ok) throw new Error(`the object of key ${record.keyId} answered ${response.status}`);
        return;
      } catch (error) {
        if (attempt >= this.options.attempts) {
          this.options.onError?.(error);
          // The record the admission counted is in the object's roll-up: its cancellation goes to D1 as a row of its own.
          if (cancels) await this.direct.record({ ...cancelled(cancels), id: `${cancels.id}.cancelled` });
          return this.direct.record(record); // counted once either way: the object dedupes by id, D1 too
        }
        await new Promise((r) => setTimeout(r, this.options.backoffMs * attempt));
      }
    }
  }

  /** Writes what the key's object counted and has not written yet (usage reports call it for the caller's key). */
  async flush(keyId?: string | null): Promise<void> {
    if (!keyId) return;
    const response = await this.limiter.call({ op: 'flush', key: keyId });
    if (!response.ok) throw new Error(`flushing the usage of key ${keyId} failed: ${response.status}`);
  }

  async close(): Promise<void> {}
}
