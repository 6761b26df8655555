/**
 * GET /metrics through the real Node server (keys mode, SQLite, a recording upstream on 127.0.0.1 for generation):
 * requests of known routes, models and statuses are sent, the exposition is parsed by a Prometheus text parser,
 * and its counters equal what was sent; then the token guard, in each of its settings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, classifyWith, startKeysServer, type KeysServer } from '../billing/helpers.js';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';
import { COMPLETION_TOKENS, PROMPT_TOKENS, recordingUpstream, type RecordingUpstream } from './recording-upstream.js';
import { scrape, type Scrape } from './scrape.js';
import { eventually } from '../helpers/eventually.js';

const MODEL = 'sst2-glove-bilstm';
const METRICS_TOKEN = 'metrics-secret';

let upstream: RecordingUpstream;
let running: KeysServer;
let key: string;

beforeAll(async () => {
  upstream = await recordingUpstream();
  running = await startKeysServer({ generationUrl: upstream.url, fineTuning: false, metricsToken: METRICS_TOKEN });
  key = (await running.admin.key('metrics')).key;
}, 60_000);
afterAll(async () => {
  await running?.close();
  await upstream?.close();
});

const chat = (stream: boolean, content = 'Tell me a story', headers: Record<string, string> = {}) =>
  fetch(`${running.server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content }], max_tokens: 8, stream }),
  });

describe('GET /metrics after known traffic', () => {
  const sent = { classified: 0, classifiedTexts: 0, inputTokens: 0 };
  let metrics: Scrape;
  let before: Scrape;

  beforeAll(async () => {
    await running.server.allModelsLoaded(); // the other models' warm-ups are batches too: none may land between the scrapes
    before = await scrape(running.server.url, METRICS_TOKEN);
    const texts = [['a wonderful film'], ['dull', 'a heartfelt, funny story'], ['bad'], ['fine', 'ok', 'grim'], ['an average movie']];
    const answers = await Promise.all(texts.map((input) => classifyWith(running.server.url, key, { model: MODEL, input })));
    for (const res of answers) {
      expect(res.status).toBe(200);
      const body = (await res.json()) as { usage: { input_tokens: number; texts: number } };
      sent.classified++;
      sent.classifiedTexts += body.usage.texts;
      sent.inputTokens += body.usage.input_tokens;
    }
    for (let i = 0; i < 2; i++) expect((await classifyWith(running.server.url, key, { model: MODEL, input: [] })).status).toBe(400);
    expect((await classifyWith(running.server.url, null)).status).toBe(401);
    const tooLarge = await fetch(`${running.server.url}/v1/classify`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ model: MODEL, input: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(tooLarge.status).toBe(413);
    for (let i = 0; i < 3; i++) expect((await fetch(`${running.server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${running.server.url}/no-such-path`)).status).toBe(404);
    for (let i = 0; i < 2; i++) expect((await chat(false)).status).toBe(200);
    const streamed = await chat(true, 'write to jane.doe@example.com please', { 'x-edge-maas-privacy': 'pii=mask' });
    expect(streamed.status).toBe(200);
    await streamed.text(); // to its end: the stream is counted when it ends
    metrics = await scrape(running.server.url, METRICS_TOKEN);
  }, 60_000);

  const requests = (labels: Record<string, string>) =>
    metrics.samples('edge_maas_http_requests_total', labels).reduce((sum, s) => sum + s.value, 0);

  it('counts requests by route, model, version and status, as they were sent', () => {
    expect(metrics.type('edge_maas_http_requests_total')).toBe('COUNTER');
    expect(metrics.value('edge_maas_http_requests_total', { method: 'POST', route: '/v1/classify', model: MODEL, version: '2', status: '200' })).toBe(5);
    expect(requests({ route: '/v1/classify', status: '400' })).toBe(2);
    expect(requests({ route: '/v1/classify', status: '401' })).toBe(1);
    expect(requests({ route: '/v1/classify', status: '413' })).toBe(1); // refused by the body limit, before any route
    expect(metrics.value('edge_maas_http_requests_total', { method: 'GET', route: '/healthz', model: '', version: '', status: '200' })).toBe(3);
    expect(metrics.value('edge_maas_http_requests_total', { method: 'GET', route: 'unmatched', model: '', version: '', status: '404' })).toBe(1);
    expect(requests({ route: '/v1/chat/completions', model: 'stories260K', status: '200' })).toBe(3);
    // Before the traffic: the admin calls that made the key, nothing else.
    expect(before.samples('edge_maas_http_requests_total').filter((s) => !s.labels.route!.startsWith('/admin/'))).toEqual([]);
    expect(requests({ route: '/metrics', status: '200' })).toBe(1);
  });

  it('times every answer in a seconds histogram, streams to their end', () => {
    expect(metrics.type('edge_maas_http_request_duration_seconds')).toBe('HISTOGRAM');
    expect(metrics.value('edge_maas_http_request_duration_seconds', { route: '/v1/classify', model: MODEL })).toBe(5);
    expect(metrics.value('edge_maas_http_request_duration_seconds', { route: '/v1/chat/completions', model: 'stories260K' })).toBe(3);
    const seconds = metrics.sum('edge_maas_http_request_duration_seconds', { route: '/v1/classify', model: MODEL });
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(60);
    const buckets = metrics.samples('edge_maas_http_request_duration_seconds_bucket', { route: '/v1/classify', model: MODEL });
    expect(buckets.find((b) => b.labels.le === '+Inf')?.value).toBe(5);
  });

  it('counts the tokens the models read and generated', () => {
    expect(metrics.value('edge_maas_input_tokens_total', { model: MODEL, version: '2' })).toBe(sent.inputTokens);
    const generation = metrics.samples('edge_maas_input_tokens_total', { model: 'stories260K' });
    expect(generation.reduce((sum, s) => sum + s.value, 0)).toBe(3 * PROMPT_TOKENS);
    expect(metrics.samples('edge_maas_output_tokens_total', { model: 'stories260K' }).reduce((sum, s) => sum + s.value, 0)).toBe(3 * COMPLETION_TOKENS);
  });

  it('has one queue wait per classification and batches holding every text', () => {
    expect(metrics.value('edge_maas_classify_queue_wait_seconds', { model: `${MODEL}@2` })).toBe(sent.classified);
    // Less what ran before the traffic: each model's warm-up at load.
    const batches = metrics.value('edge_maas_classify_batch_size') - before.value('edge_maas_classify_batch_size');
    expect(metrics.sum('edge_maas_classify_batch_size') - before.sum('edge_maas_classify_batch_size')).toBe(sent.classifiedTexts);
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(batches).toBeLessThanOrEqual(sent.classified);
    expect(metrics.value('edge_maas_classify_batch_duration_seconds') - before.value('edge_maas_classify_batch_duration_seconds')).toBe(batches);
  });

  it('counts upstream attempts by outcome and reports each circuit closed', () => {
    const origin = new URL(upstream.url).origin;
    expect(metrics.value('edge_maas_upstream_attempts_total', { upstream: origin, outcome: '200' })).toBe(3);
    expect(metrics.value('edge_maas_upstream_down_attempts_total', { upstream: origin })).toBe(0);
    expect(metrics.value('edge_maas_upstream_circuit_state', { upstream: origin, state: 'closed' })).toBe(1);
    expect(metrics.value('edge_maas_upstream_circuit_state', { upstream: origin, state: 'open' })).toBe(0);
    // No tracing SDK in this process (OTEL_TRACES_EXPORTER unset): the API's calls are no-ops and send no traceparent.
    expect(upstream.received).toHaveLength(3);
    expect(upstream.received.map((h) => h.traceparent)).toEqual([undefined, undefined, undefined]);
  });

  it('counts PII found by kind, and reads the usage backlog', () => {
    expect(metrics.value('edge_maas_pii_redactions_total', { kind: 'email' })).toBe(1);
    expect(metrics.type('edge_maas_usage_writer_backlog')).toBe('GAUGE');
    expect(metrics.value('edge_maas_usage_writer_backlog')).toBeGreaterThanOrEqual(0);
  });
});

describe('shadow versions', () => {
  it('counts the texts a shadow ran, by result, under the route\'s alias and both versions', async () => {
    const put = await running.admin.call('PUT', '/routes/sentiment', { weights: { 'sst2-glove-bilstm@2': 100 }, shadow: { model: 'sst2-bert@3', percent: 100 } });
    expect(put.status).toBe(200);
    const texts = ['a wonderful film', 'a dull, lifeless mess', 'fine'];
    expect((await classifyWith(running.server.url, key, { model: 'sentiment', input: texts })).status).toBe(200);
    const labels = { alias: 'sentiment', model: 'sst2-glove-bilstm@2', shadow: 'sst2-bert@3' };
    const counted = (s: Scrape) => ['agreed', 'disagreed', 'skipped'].reduce((sum, result) => sum + s.value('edge_maas_shadow_texts_total', { ...labels, result }), 0);
    // The shadow runs after the answer: wait for its outcome, then the counts are the texts sent.
    const after = await eventually(() => scrape(running.server.url, METRICS_TOKEN), (s) => counted(s) > 0);
    expect(counted(after)).toBe(texts.length);
    type Comparison = { model: string; shadow_model: string; agreed: number; compared: number };
    const pairOf = async () => ((await running.admin.call('GET', '/routes/sentiment')).body as { shadow_comparisons: Comparison[] }).shadow_comparisons
      .find((p) => p.model === labels.model && p.shadow_model === labels.shadow);
    // The admin API's own count of the same comparisons (written to the store after the run).
    const pair = (await eventually(pairOf, (p) => p?.compared === texts.length))!;
    expect(after.value('edge_maas_shadow_texts_total', { ...labels, result: 'agreed' })).toBe(pair.agreed);
    expect((await running.admin.call('DELETE', '/routes/sentiment')).status).toBeLessThan(300);
  });
});

describe('the token guard', () => {
  it('takes METRICS_TOKEN when set, and refuses the admin token, another token or none with a 401 JSON error', async () => {
    for (const authorization of [undefined, `Bearer ${ADMIN}`, 'Bearer wrong', METRICS_TOKEN]) {
      const res = await fetch(`${running.server.url}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { type: 'authentication_error', code: 'invalid_metrics_token' } });
    }
    expect((await fetch(`${running.server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const posted = await fetch(`${running.server.url}/metrics`, { method: 'POST', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(posted.status).toBe(405);
    expect(posted.headers.get('allow')).toBe('GET, HEAD');
    expect(await posted.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  describe('without METRICS_TOKEN', () => {
    const servers: RunningServer[] = [];
    afterAll(async () => Promise.all(servers.map((s) => s.close())));
    const start = async (options: Parameters<typeof startServer>[0]) => {
      const server = await startServer({ port: 0, billing: false, generation: false, fineTuning: false, ...options });
      servers.push(server);
      return server;
    };

    it('takes the admin token', async () => {
      const server = await start({ auth: 'keys', adminToken: ADMIN });
      expect((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
      expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    }, 60_000);

    it('with no token at all: 401 with keys, open in open mode', async () => {
      const keys = await start({ auth: 'keys' });
      const refused = await fetch(`${keys.url}/metrics`);
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ error: { code: 'metrics_token_unset', message: expect.stringContaining('METRICS_TOKEN') } });
      const open = await start({ auth: 'open' });
      expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
    }, 60_000);

    it('is absent when metrics are off', async () => {
      const off = await start({ metrics: false });
      expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
    }, 60_000);
  });
});

describe('an upstream that is down', () => {
  let down: RunningServer;
  let downUrl: string;
  beforeAll(async () => {
    // A port that was just listening and is closed now: connections are refused.
    const closed = await recordingUpstream();
    downUrl = closed.url;
    await closed.close();
    down = await startServer({ port: 0, billing: false, generationUrl: downUrl, fineTuning: false });
  }, 60_000);
  afterAll(async () => down?.close());

  it('counts each refused attempt, retries included, and reports the circuit open once it trips', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${down.url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
      });
      expect(res.status).toBeGreaterThanOrEqual(502);
    }
    const metrics = await scrape(down.url);
    const origin = new URL(downUrl).origin;
    // Each request: one attempt and one retry (DEFAULT_UPSTREAM_POLICY.retries = 1); the breaker opens after 3 failures.
    expect(metrics.value('edge_maas_upstream_attempts_total', { upstream: origin, outcome: 'error' })).toBe(3);
    expect(metrics.value('edge_maas_upstream_down_attempts_total', { upstream: origin })).toBe(3);
    expect(metrics.value('edge_maas_upstream_circuit_state', { upstream: origin, state: 'open' })).toBe(1);
    expect(metrics.value('edge_maas_upstream_circuit_state', { upstream: origin, state: 'closed' })).toBe(0);
    expect(metrics.samples('edge_maas_http_requests_total', { route: '/v1/chat/completions', model: 'stories260K' }).map((s) => s.labels.status).sort()).toEqual(['502', '503']);
  });
});
