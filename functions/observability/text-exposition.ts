/**
 * A small Prometheus registry rendering text exposition 0.0.4 with Web-standard code only (what a Worker can run):
 * counters and histograms by label set, gauges read when rendered.
 */
type Labels = Record<string, string>;

const escapeValue = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (help: string) => help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const formatLabels = (labels: Labels) => {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeValue(v)}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
};
const formatNumber = (n: number) => (Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN');
const keyOf = (labels: Labels) => JSON.stringify(Object.entries(labels));

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  render(base: Labels): string[];
}

export class TextRegistry {
  private readonly families: Family[] = [];

  /** `base`: labels put on every sample (e.g. the isolate that holds the counts). */
  constructor(private readonly base: Labels = {}) {}

  counter(name: string, help: string): (labels: Labels, by?: number) => void {
    const values = new Map<string, { labels: Labels; value: number }>();
    this.families.push({ name, help, type: 'counter', render: (base) => [...values.values()].map((v) => `${name}${formatLabels({ ...base, ...v.labels })} ${formatNumber(v.value)}`) });
    return (labels, by = 1) => {
      const key = keyOf(labels);
      const entry = values.get(key) ?? values.set(key, { labels, value: 0 }).get(key)!;
      entry.value += by;
    };
  }

  histogram(name: string, help: string, buckets: readonly number[]): (labels: Labels, value: number) => void {
    const values = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
    this.families.push({
      name, help, type: 'histogram',
      render: (base) => [...values.values()].flatMap((v) => {
        const labels = { ...base, ...v.labels };
        let cumulative = 0;
        return [
          ...buckets.map((le, i) => `${name}_bucket${formatLabels({ ...labels, le: formatNumber(le) })} ${(cumulative += v.counts[i]!)}`),
          `${name}_bucket${formatLabels({ ...labels, le: '+Inf' })} ${v.count}`,
          `${name}_sum${formatLabels(labels)} ${formatNumber(v.sum)}`,
          `${name}_count${formatLabels(labels)} ${v.count}`,
        ];
      }),
    });
    return (labels, value) => {
      const key = keyOf(labels);
      const entry = values.get(key) ?? values.set(key, { labels, counts: buckets.map(() => 0), sum: 0, count: 0 }).get(key)!;
      const i = buckets.findIndex((le) => value <= le);
      if (i >= 0) entry.counts[i]!++;
      entry.sum += value;
      entry.count++;
    };
  }

  gauge(name: string, help: string, read: () => Array<{ labels: Labels; value: number }>): void {
    this.families.push({ name, help, type: 'gauge', render: (base) => read().map((v) => `${name}${formatLabels({ ...base, ...v.labels })} ${formatNumber(v.value)}`) });
  }

  render(): string {
    return this.families.map((f) => [`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`, ...f.render(this.base)].join('\n')).join('\n') + '\n';
  }
}
