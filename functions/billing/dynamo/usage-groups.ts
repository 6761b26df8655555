/** Usage records (and roll-ups) summed by model, UTC day or key, as the SQL store's GROUP BY does. */
import type { UsageGroup, UsageRecord, UsageRow } from '../types.js';

const groupOf: Record<UsageGroup, (r: Pick<UsageRecord, 'model' | 'modelVersion' | 'createdAt' | 'keyId'>) => string> = {
  // A request refused before its model ran (429, 402) names the model it asked for, without a version.
  model: (r) => (r.model === null ? '(none)' : r.modelVersion === null ? r.model : `${r.model}@${r.modelVersion}`),
  day: (r) => new Date(r.createdAt).toISOString().slice(0, 10),
  key: (r) => r.keyId ?? '(open)',
};

/** The fields a summary reads (for a projection: a report need not fetch whole records). */
export const SUMMED_FIELDS = ['model', 'modelVersion', 'createdAt', 'keyId', 'inputTokens', 'outputTokens', 'costMicroUsd', 'requests'] as const;

type Summed = Pick<UsageRecord, (typeof SUMMED_FIELDS)[number]>;

/** Sums records as they arrive, holding one row per group and never the records. */
export class UsageSummary {
  private readonly rows = new Map<string, UsageRow>();

  constructor(private readonly group: UsageGroup) {}

  add(r: Summed): void {
    const name = groupOf[this.group](r);
    let row = this.rows.get(name);
    if (!row) this.rows.set(name, (row = { group: name, requests: 0, inputTokens: 0, outputTokens: 0, costMicroUsd: 0 }));
    row.requests += r.requests ?? 1; // a roll-up sums several
    row.inputTokens += r.inputTokens;
    row.outputTokens += r.outputTokens;
    row.costMicroUsd += r.costMicroUsd;
  }

  result(): UsageRow[] {
    return [...this.rows.values()].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  }
}
