/**
 * Usage records summed into roll-ups: one per key, tenant, UTC minute, model and version, path, route, status and
 * replay flag, holding how many requests it sums (`requests`), their tokens, engine time and cost. Where a single
 * writer sees all of a key's records (the key's Durable Object at the edge), it adds each record here and writes the
 * roll-ups every few seconds instead of a row per request. `take` freezes what was added into records with stable
 * ids (`<prefix>.<n>`): the writer keeps that batch, ids and all, until the store took it, so a retried write is
 * the same rows again (INSERT OR IGNORE per id), never a second count; later records go to the next batch.
 * A roll-up's createdAt is its minute's start, and its requestId names it as one (requests' own ids are not kept).
 */
import type { UsageRecord } from './types.js';

export const ROLLUP_MS = 60_000;

const groupKey = (r: UsageRecord, minute: number) =>
  JSON.stringify([r.keyId, r.tenantId, minute, r.model, r.modelVersion, r.path, r.route, r.status, r.idempotentReplay]);

export class UsageRollup {
  private groups = new Map<string, UsageRecord>();
  /** Requests and cost added since the last take. */
  requests = 0;
  costMicroUsd = 0;

  add(record: UsageRecord): void {
    const minute = record.createdAt - (record.createdAt % ROLLUP_MS);
    const key = groupKey(record, minute);
    const count = record.requests ?? 1;
    const group = this.groups.get(key);
    if (!group) {
      this.groups.set(key, { ...record, id: '', requestId: 'roll-up', createdAt: minute, heldMicroUsd: 0, requests: count });
    } else {
      group.requests! += count;
      group.inputTokens += record.inputTokens;
      group.outputTokens += record.outputTokens;
      group.computeMs = Math.round((group.computeMs + record.computeMs) * 1000) / 1000;
      group.costMicroUsd += record.costMicroUsd;
      // A cancellation (cancelled() below) that met its record in the same batch leaves nothing to write (costs are
      // kept to 1e-6 micro-USD: what is under that is the sums' floating-point rest).
      if (group.requests === 0 && group.inputTokens === 0 && group.outputTokens === 0 && Math.abs(group.costMicroUsd) < 1e-7) this.groups.delete(key);
    }
    this.requests += count;
    this.costMicroUsd += record.costMicroUsd;
  }

  get size(): number {
    return this.groups.size;
  }

  /** The roll-ups so far, with ids `<idPrefix>.<n>`, and a fresh start for the next ones. */
  take(idPrefix: string): UsageRecord[] {
    const rows = [...this.groups.values()].map((row, i) => ({ ...row, id: `${idPrefix}.${i}` }));
    this.groups = new Map();
    this.requests = 0;
    this.costMicroUsd = 0;
    return rows;
  }
}

/**
 * What cancels a record counted before (the edge counts a classification with its admission; one that then ends
 * otherwise cancels it): its negative, in the same group. Added to the batch that still holds the record it nets to
 * nothing; after that batch was written it is a row of its own (requests -1, negative tokens and cost) that the
 * reports' sums and the key's month net out.
 */
export function cancelled(record: UsageRecord): UsageRecord {
  return {
    ...record, requests: -(record.requests ?? 1), inputTokens: -record.inputTokens, outputTokens: -record.outputTokens,
    computeMs: -record.computeMs, costMicroUsd: -record.costMicroUsd, heldMicroUsd: 0,
  };
}
