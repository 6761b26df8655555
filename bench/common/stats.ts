/** Percentiles and formatting for the benchmark tables. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');
