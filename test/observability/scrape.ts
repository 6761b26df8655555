/**
 * GET /metrics parsed by a Prometheus text parser (parse-prometheus-text-format), with lookups by name and labels.
 * Its histogram reader keeps one histogram per family (flattenMetrics merges every label set into one), so a
 * histogram is read as its `_bucket`, `_sum` and `_count` series: the same lines, typed untyped before parsing.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  /** The samples of a series whose labels include `labels`. */
  samples(name: string, labels?: Record<string, string>): Sample[];
  /** The value of the one sample with exactly these labels (a histogram: its `_count`); 0 when absent. */
  value(name: string, labels?: Record<string, string>): number;
  /** A histogram's `_sum` for exactly these labels. */
  sum(name: string, labels?: Record<string, string>): number;
  /** The # TYPE line's type, as the exposition declared it. */
  type(name: string): string | undefined;
}

export async function scrape(url: string, token?: string): Promise<Scrape> {
  return scrapeOf(await fetch(`${url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} }));
}

/** A /metrics answer, parsed (throws on any status but 200). */
export async function scrapeOf(res: Response): Promise<Scrape> {
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${await res.text()}`);
  return parseScrape(await res.text());
}

export function parseScrape(text: string): Scrape {
  const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!.toUpperCase()]));
  const families = parsePrometheusTextFormat(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped'));
  const samples: Scrape['samples'] = (name, labels = {}) =>
    families.filter((f) => f.name === name).flatMap((f) => f.metrics)
      .map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) }))
      .filter((m) => Object.entries(labels).every(([k, v]) => m.labels[k] === v));
  const exact = (name: string, labels: Record<string, string>) => {
    const found = samples(name, labels).filter((m) => Object.keys(m.labels).length === Object.keys(labels).length);
    if (found.length > 1) throw new Error(`${name}: ${found.length} samples match ${JSON.stringify(labels)}`);
    return found[0]?.value ?? 0;
  };
  return {
    samples,
    type: (name) => types.get(name),
    value: (name, labels = {}) => exact(types.get(name) === 'HISTOGRAM' ? `${name}_count` : name, labels),
    sum: (name, labels = {}) => exact(`${name}_sum`, labels),
  };
}
