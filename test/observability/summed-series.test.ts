// The summed families every request updates must render exactly what prom-client's own Counter and Histogram render
// for the same updates: same samples, same values, bucket edges included. Both through a real prom-client Registry.
import { Counter, Histogram, Registry, type Metric } from 'prom-client';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { CounterFamily, HistogramFamily } from '../../functions/observability/summed-series.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];
const VALUES = [0, 0.001, 0.0010001, 0.01, 0.05, 0.1, 0.99, 1, 1.5, 30];

async function rendered(registry: Registry) {
  return parsePrometheusTextFormat(await registry.metrics());
}

describe('summed series', () => {
  it('render a histogram as prom-client does, values on a bucket edge in that bucket, values past the last only in +Inf', async () => {
    const theirs = new Registry();
    const reference = new Histogram({ name: 'h_seconds', help: 'help', labelNames: ['route'], buckets: BOUNDS, registers: [theirs] });
    const ours = new Registry();
    const family = new HistogramFamily('h_seconds', 'help', BOUNDS);
    ours.registerMetric({ name: family.name, get: async () => family.collect() } as unknown as Metric);
    for (const [i, value] of VALUES.entries()) {
      const route = i % 2 ? '/a' : '/b';
      reference.observe({ route }, value);
      family.of(route, () => ({ route })).observe(value);
    }
    expect(await rendered(ours)).toEqual(await rendered(theirs));
  });

  it('render counters as prom-client does', async () => {
    const theirs = new Registry();
    const reference = new Counter({ name: 'c_total', help: 'help "quoted"\nline', labelNames: ['model', 'status'], registers: [theirs] });
    const ours = new Registry();
    const family = new CounterFamily('c_total', 'help "quoted"\nline');
    ours.registerMetric({ name: family.name, get: async () => family.collect() } as unknown as Metric);
    for (const [model, status, by] of [['m"1', '200', 1], ['m\\2', '500', 3], ['m"1', '200', 2]] as const) {
      reference.inc({ model, status }, by);
      family.of(`${model}\n${status}`, () => ({ model, status })).value += by;
    }
    expect(await rendered(ours)).toEqual(await rendered(theirs));
  });
});
