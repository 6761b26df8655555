/**
 * The Worker's metrics (IsolateRouterMetrics: the isolate's own registry, and a data point per request for a Workers
 * Analytics Engine dataset) through the runtime-agnostic app: the exposition parses as Prometheus text and counts
 * what was sent, label values are escaped, and each request's data point carries its route, model and status.
 * Analytics Engine does not run here (Miniflare's binding writes nowhere readable), so the dataset is an object that
 * keeps what writeDataPoint was given: the binding's one method.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app/create-app.js';
import { IsolateRouterMetrics } from '../../functions/observability/isolate-metrics.js';
import { observabilityPlugin } from '../../functions/observability/observability-plugin.js';
import { TextRegistry } from '../../functions/observability/text-exposition.js';
import { loadEngines, readLocalRegistry } from '../../functions/node/local-app.js';
import { observeClassifiers } from '../../functions/observability/observed-classifier.js';
import { parseScrape } from './scrape.js';

describe('IsolateRouterMetrics behind the app', () => {
  it('counts requests in Prometheus text with the isolate label, and writes one data point per request', async () => {
    const registry = await readLocalRegistry();
    const engines = await loadEngines(registry, 'wasm');
    const points: Array<{ blobs?: string[]; doubles?: number[]; indexes?: string[] }> = [];
    const metrics = new IsolateRouterMetrics({ breakerStates: () => [{ upstream: 'http://gpu.example', state: 'open' }] }, { writeDataPoint: (p) => points.push(p) }, 'abcd1234');
    const app = createApp({ registry, engines: observeClassifiers(engines, metrics), isReady: () => true, plugins: [observabilityPlugin({ metrics, access: { openWithoutToken: true } })] });
    const classify = (input: unknown) => app.request('/v1/classify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input }) });
    expect((await classify('a fine film')).status).toBe(200);
    expect((await classify(['dull', 'grand'])).status).toBe(200);
    expect((await classify(42)).status).toBe(400);
    expect((await app.request('/healthz')).status).toBe(200);
    const res = await app.request('/metrics');
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const scrape = parseScrape(await res.text());
    const isolate = 'abcd1234';
    expect(scrape.value('edge_maas_http_requests_total', { isolate, method: 'POST', route: '/v1/classify', model: 'sst2-glove-bilstm', version: '2', status: '200' })).toBe(2);
    expect(scrape.value('edge_maas_http_requests_total', { isolate, method: 'POST', route: '/v1/classify', model: '', version: '', status: '400' })).toBe(1);
    expect(scrape.value('edge_maas_http_request_duration_seconds', { isolate, route: '/v1/classify', model: 'sst2-glove-bilstm' })).toBe(2);
    expect(scrape.value('edge_maas_classify_queue_wait_seconds', { isolate, model: 'sst2-glove-bilstm@2' })).toBe(2);
    expect(scrape.value('edge_maas_upstream_circuit_state', { isolate, upstream: 'http://gpu.example', state: 'open' })).toBe(1);
    expect(scrape.value('edge_maas_upstream_circuit_state', { isolate, upstream: 'http://gpu.example', state: 'closed' })).toBe(0);
    expect(points.map((p) => p.blobs)).toEqual([
      ['POST', '/v1/classify', 'sst2-glove-bilstm', '2', '200'],
      ['POST', '/v1/classify', 'sst2-glove-bilstm', '2', '200'],
      ['POST', '/v1/classify', '', '', '400'],
      ['GET', '/healthz', '', '', '200'],
      ['GET', '/metrics', '', '', '200'],
    ]);
    expect(points[0]!.doubles![0]).toBeGreaterThan(0);
    expect(points[1]!.doubles![1]).toBeGreaterThan(points[0]!.doubles![1]! / 2);
    expect(points[0]!.indexes).toEqual(['sst2-glove-bilstm']);
  }, 60_000);

  it('escapes label values and renders histogram buckets cumulatively', () => {
    const registry = new TextRegistry();
    registry.counter('c_total', 'help')({ path: 'a"b\\c\nd' });
    const observe = registry.histogram('h_seconds', 'help', [0.1, 1]);
    for (const v of [0.05, 0.5, 0.5, 5]) observe({}, v);
    const text = registry.render();
    expect(text).toContain('c_total{path="a\\"b\\\\c\\nd"} 1');
    const scrape = parseScrape(text);
    expect(scrape.samples('c_total')[0]!.labels.path).toBe('a"b\\c\nd');
    expect(scrape.samples('h_seconds_bucket').map((s) => [s.labels.le, s.value])).toEqual([['0.1', 1], ['1', 3], ['+Inf', 4]]);
    expect(scrape.sum('h_seconds')).toBe(6.05);
    expect(scrape.value('h_seconds')).toBe(4);
  });
});
