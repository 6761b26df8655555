/**
 * Spans of the real Node server, caught by the SDK's InMemorySpanExporter (its exporter for tests): a request's
 * server span continues the caller's traceparent; a classification has classify > queue, tokenize, inference; a
 * generation's "upstream call" span sends its traceparent to a real upstream on 127.0.0.1, which records it. Then
 * the env switch: off by default, and OTEL_TRACES_EXPORTER=otlp posting spans to a collector on 127.0.0.1.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';
import { startTracing, type Tracing } from '../../functions/node/tracing-setup.js';
import { recordingUpstream, type RecordingUpstream } from './recording-upstream.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const GAP_MS = 40;

const exporter = new InMemorySpanExporter();
let tracing: Tracing | null;
let upstream: RecordingUpstream;
let server: RunningServer;

const unregister = () => {
  trace.disable();
  context.disable();
  propagation.disable();
};

beforeAll(async () => {
  tracing = startTracing({ exporter });
  upstream = await recordingUpstream({ chunkGapMs: GAP_MS });
  server = await startServer({ port: 0, billing: false, generationUrl: upstream.url, fineTuning: false });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await upstream?.close();
  await tracing?.shutdown();
  unregister();
});

const durationMs = (span: ReadableSpan) => span.duration[0] * 1e3 + span.duration[1] / 1e6;
const startMs = (span: ReadableSpan) => span.startTime[0] * 1e3 + span.startTime[1] / 1e6;
const endMs = (span: ReadableSpan) => span.endTime[0] * 1e3 + span.endTime[1] / 1e6;
const childrenOf = (parent: ReadableSpan) => exporter.getFinishedSpans().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);

describe('spans of the Node server', () => {
  it('a classification: the route span continues the caller\'s traceparent, with classify > queue, tokenize, inference', async () => {
    exporter.reset();
    const res = await fetch(`${server.url}/v1/classify`, {
      method: 'POST', headers: { 'content-type': 'application/json', traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` }, body: JSON.stringify({ input: ['a fine film', 'dull'] }),
    });
    expect(res.status).toBe(200);
    const inferenceMs = Number(/inference;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')![1]);
    const route = exporter.getFinishedSpans().find((s) => s.name === 'POST /v1/classify')!;
    expect(route.kind).toBe(SpanKind.SERVER);
    expect(route.spanContext().traceId).toBe(TRACE_ID);
    expect(route.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(route.attributes).toMatchObject({ 'http.route': '/v1/classify', 'http.response.status_code': 200, 'edge_maas.model': 'sst2-glove-bilstm' });
    const [classify] = childrenOf(route);
    expect(classify!.name).toBe('classify');
    expect(classify!.attributes['edge_maas.texts']).toBe(2);
    const steps = childrenOf(classify!).sort((a, b) => startMs(a) - startMs(b));
    expect(steps.map((s) => s.name)).toEqual(['queue', 'tokenize', 'inference']);
    for (let i = 1; i < steps.length; i++) expect(startMs(steps[i]!)).toBeCloseTo(endMs(steps[i - 1]!), 1);
    expect(durationMs(steps[2]!)).toBeCloseTo(inferenceMs, 1);
    expect(startMs(steps[0]!)).toBeGreaterThanOrEqual(startMs(classify!) - 1);
    expect(endMs(steps[2]!)).toBeLessThanOrEqual(endMs(classify!) + 1);
  });

  it('a generation: the upstream receives the traceparent of the router\'s "upstream call" span, in the route\'s trace', async () => {
    exporter.reset();
    upstream.received.length = 0;
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: 'Tell me a story' }], max_tokens: 8 }),
    });
    expect(res.status).toBe(200);
    const route = exporter.getFinishedSpans().find((s) => s.name === 'POST /v1/chat/completions')!;
    const call = childrenOf(route).find((s) => s.name === 'upstream call')!;
    expect(call.kind).toBe(SpanKind.CLIENT);
    expect(call.attributes).toMatchObject({ 'server.address': new URL(upstream.url).origin, 'url.path': '/v1/chat/completions', 'edge_maas.upstream_outcome': 'answered' });
    expect(upstream.received).toHaveLength(1);
    expect(upstream.received[0]!.traceparent).toBe(`00-${route.spanContext().traceId}-${call.spanContext().spanId}-01`);
  });

  it('the caller\'s tracestate goes upstream with the SDK\'s traceparent under pii=off only: it is free text, and a mask policy promises none leaves', async () => {
    // Policies need the usage file (billing, open mode: no keys).
    const dir = await mkdtemp(join(tmpdir(), 'edge-maas-tracestate-'));
    const withPolicies = await startServer({ port: 0, usageDb: join(dir, 'usage.sqlite'), generationUrl: upstream.url, fineTuning: false });
    onTestFinished(async () => {
      await withPolicies.close();
      await rm(dir, { recursive: true, force: true });
    });
    const send = (privacy?: string) => fetch(`${withPolicies.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: 'vendor=jane.doe@example.com', ...(privacy ? { 'x-edge-maas-privacy': privacy } : {}) },
      body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: 'Tell me a story' }], max_tokens: 8 }),
    });
    upstream.received.length = 0;
    expect((await send()).status).toBe(200);
    const masked = await send('pii=mask');
    expect(masked.status).toBe(200);
    expect(masked.headers.get('x-edge-maas-privacy')).toBe('pii=mask; retention=standard');
    expect(upstream.received).toHaveLength(2);
    for (const headers of upstream.received) expect(headers.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(upstream.received[0]!.tracestate).toBe('vendor=jane.doe@example.com');
    expect(upstream.received[1]!.tracestate).toBeUndefined();
  });

  it('a stream: the route span ends with the stream, the upstream call at its first chunk', async () => {
    exporter.reset();
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: 'Tell me a story' }], max_tokens: 8, stream: true }),
    });
    expect(await res.text()).toContain('[DONE]');
    const route = exporter.getFinishedSpans().find((s) => s.name === 'POST /v1/chat/completions')!;
    const call = childrenOf(route).find((s) => s.name === 'upstream call')!;
    // Four gaps between the five chunks.
    expect(durationMs(route)).toBeGreaterThanOrEqual(4 * GAP_MS - 5);
    expect(durationMs(call)).toBeLessThan(GAP_MS);
  });
});

describe('the environment switch', () => {
  it('registers nothing when OTEL_TRACES_EXPORTER is unset or none, and refuses an unknown exporter', () => {
    expect(startTracing({ env: {} })).toBeNull();
    expect(startTracing({ env: { OTEL_TRACES_EXPORTER: 'none' } })).toBeNull();
    expect(() => startTracing({ env: { OTEL_TRACES_EXPORTER: 'zipkin' } })).toThrow(/OTEL_TRACES_EXPORTER must be one of none, otlp, console/);
  });

  it('OTEL_TRACES_EXPORTER=otlp posts the spans as OTLP JSON to the endpoint the environment names', async () => {
    const bodies: string[] = [];
    const collector = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      bodies.push(`${req.method} ${req.url} ${req.headers['content-type']} ${body}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    await tracing?.shutdown();
    unregister();
    const saved = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = endpoint;
    try {
      tracing = startTracing({ env: { OTEL_TRACES_EXPORTER: 'otlp' } });
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      await tracing!.shutdown(); // flushes the batch
      tracing = null;
    } finally {
      if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
      else process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = saved;
      await new Promise<void>((r) => collector.close(() => r()));
    }
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatch(/^POST \/v1\/traces application\/json /);
    expect(bodies[0]).toContain('"name":"GET /healthz"');
  });
});
