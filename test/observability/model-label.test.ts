// /metrics must not publish tenants or the suffixes their users chose, nor grow a series per fine-tuning job: a
// fine-tuned model counts as ft:<base>. Hono app, the request-metrics middleware and prom-client's registry, real.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../../functions/http/request-context.js';
import { requestState } from '../../functions/http/request-state.js';
import { PromRouterMetrics } from '../../functions/node/prom-metrics.js';
import { modelLabel, requestMetrics } from '../../functions/observability/request-metrics.js';

describe('the model label of /metrics', () => {
  it('names a fine-tuned model by its base only, and registry models as they are', () => {
    expect(modelLabel('ft:electra-imdb-small:megabank-secret:merger-project-x:ftjob-722boddul9s3lhecysm031s4')).toBe('ft:electra-imdb-small');
    expect(modelLabel('sst2-glove-bilstm')).toBe('sst2-glove-bilstm');
    expect(modelLabel('')).toBe('');
  });

  it('keeps tenants and suffixes out of the exposition, with one series for every job of a base', async () => {
    const metrics = new PromRouterMetrics({}, { processMetrics: false });
    const app = new Hono<AppEnv>();
    app.use(requestState(() => 'req-1'));
    app.use(requestMetrics(metrics));
    app.post('/v1/classify', (c) => {
      const meter = c.get('meter');
      meter.model = c.req.header('x-model')!;
      meter.modelVersion = '1';
      return c.json({ ok: true });
    });
    for (const job of ['ftjob-a', 'ftjob-b', 'ftjob-c']) {
      await app.request('/v1/classify', { method: 'POST', headers: { 'x-model': `ft:electra-imdb-small:megabank-secret:merger-project-x:${job}` } });
    }
    const text = await metrics.registry.metrics();
    expect(text).not.toMatch(/megabank|merger|ftjob/);
    const series = text.split('\n').filter((line) => line.startsWith('edge_maas_http_requests_total{'));
    expect(series).toEqual(['edge_maas_http_requests_total{method="POST",route="/v1/classify",model="ft:electra-imdb-small",version="1",status="200"} 3']);
  });
});
