/** Usage records summed by model, UTC day or key, as the SQL store's GROUP BY does. */
import type { UsageGroup, UsageRecord, UsageRow } from '../types.js';

const groupOf: Record<UsageGroup, (r: UsageRecord) => string> = {
  model: (r) => (r.model !== null && r.modelVersion !== null ? `${r.model}@${r.modelVersion}` : '(none)'),
  day: (r) => new Date(r.createdAt).toISOString().slice(0, 10),
  key: (r) => r.keyId ?? '(open)',
};

export function groupUsage(records: UsageRecord[], group: UsageGroup): UsageRow[] {
  const rows = new Map<string, UsageRow>();
  for (const r of records) {
    const name = groupOf[group](r);
    let row = rows.get(name);
    if (!row) rows.set(name, (row = { group: name, requests: 0, inputTokens: 0, outputTokens: 0, costMicroUsd: 0 }));
    row.requests += 1;
    row.inputTokens += r.inputTokens;
    row.outputTokens += r.outputTokens;
    row.costMicroUsd += r.costMicroUsd;
  }
  return [...rows.values()].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
}
