/**
 * Counter and histogram families kept in plain maps, for the metrics every request updates: a series is found by a
 * key the caller builds once, and updated with an add. prom-client's own counters and histograms check and hash
 * their label objects on every update (2.5 µs for the four updates of one classification, bench:policies); these
 * are read only when scraped. `collect()` answers prom-client's metric shape (name, help, type, aggregator, values
 * with an optional metricName), so a prom-client Registry renders them beside its own; no import of it here, so the
 * core stays free of Node's APIs.
 */
export type Labels = Readonly<Record<string, string>>;

export interface SampleValue {
  labels: Labels;
  value: number;
  metricName?: string;
}

export interface CollectedFamily {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: SampleValue[];
}

export class CounterSeries {
  value = 0;
  constructor(readonly labels: Labels) {}
}

export class HistogramSeries {
  /** Per bucket, not cumulative: counts[i] holds the values in (bounds[i - 1], bounds[i]]. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly labels: Labels, private readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    const { bounds } = this;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

abstract class Family<S> {
  private readonly series = new Map<string, S>();

  constructor(readonly name: string, readonly help: string) {}

  /** The series of `key`, made with `labels()` the first time. */
  of(key: string, labels: () => Labels): S {
    let series = this.series.get(key);
    if (series === undefined) this.series.set(key, series = this.create(labels()));
    return series;
  }

  protected all(): IterableIterator<S> {
    return this.series.values();
  }

  protected abstract create(labels: Labels): S;
}

export class CounterFamily extends Family<CounterSeries> {
  readonly type = 'counter';

  protected create(labels: Labels): CounterSeries {
    return new CounterSeries(labels);
  }

  collect(): CollectedFamily {
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values: [...this.all()].map(({ labels, value }) => ({ labels, value })) };
  }
}

export class HistogramFamily extends Family<HistogramSeries> {
  readonly type = 'histogram';

  constructor(name: string, help: string, private readonly bounds: readonly number[]) {
    super(name, help);
  }

  protected create(labels: Labels): HistogramSeries {
    return new HistogramSeries(labels, this.bounds);
  }

  collect(): CollectedFamily {
    const values: SampleValue[] = [];
    for (const series of this.all()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += series.counts[i]!;
        values.push({ labels: { ...series.labels, le: String(le) }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...series.labels, le: '+Inf' }, value: series.count, metricName: `${this.name}_bucket` });
      values.push({ labels: series.labels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: series.labels, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values };
  }
}
