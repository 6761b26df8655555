/**
 * Without an OpenTelemetry SDK (the Node server's default), a caller's W3C traceparent still reaches the GPU upstream:
 * through the real server to a recording upstream on 127.0.0.1, a well-formed one as it was sent (with its
 * tracestate, unless the privacy policy redacts), whole, streamed and with a chunked request body; a malformed one
 * never. Then the parsing rules of W3C Trace Context one by one (https://www.w3.org/TR/trace-context/).
 */
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';
import { callerTraceHeaders, validTraceparent, validTracestate } from '../../functions/upstream/caller-trace.js';
import { recordingUpstream, type RecordingUpstream } from './recording-upstream.js';
import { tempDb } from '../billing/helpers.js';

const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

let upstream: RecordingUpstream;
let server: RunningServer;
let db: Awaited<ReturnType<typeof tempDb>>;

beforeAll(async () => {
  upstream = await recordingUpstream();
  db = await tempDb();
  // Open mode with its SQLite file: privacy policies apply (x-edge-maas-privacy), no key is needed.
  server = await startServer({ port: 0, usageDb: db.path, generationUrl: upstream.url, fineTuning: false });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await upstream?.close();
  await db?.remove();
});

const chatBody = (stream: boolean) => JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 4, stream });

/** One chat completion with these headers, read to its end; the trace headers the upstream got for it. */
async function sentUpstream(headers: Record<string, string>, { stream = false, chunked = false } = {}) {
  const before = upstream.received.length;
  const bytes = new TextEncoder().encode(chatBody(stream));
  // A body of unknown length reaches the server chunked, and the body limit wraps the request in a new one.
  const body = chunked ? new ReadableStream({ start: (c) => (c.enqueue(bytes), c.close()) }) : bytes;
  const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, duplex: 'half' } as RequestInit);
  expect(res.status).toBe(200);
  await res.text();
  expect(upstream.received).toHaveLength(before + 1);
  const { traceparent, tracestate } = upstream.received.at(-1)!;
  return { traceparent, tracestate };
}

describe('the caller\'s traceparent without an SDK', () => {
  it('runs with no SDK registered (spans do not record)', () => {
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
  });

  it('reaches the upstream as sent, with its tracestate: whole, streamed, and with a chunked body', async () => {
    expect(await sentUpstream({ traceparent: TRACE, tracestate: 'rojo=00f067aa0ba902b7' })).toEqual({ traceparent: TRACE, tracestate: 'rojo=00f067aa0ba902b7' });
    expect(await sentUpstream({ traceparent: TRACE }, { stream: true })).toEqual({ traceparent: TRACE, tracestate: undefined });
    expect(await sentUpstream({ traceparent: TRACE }, { chunked: true })).toEqual({ traceparent: TRACE, tracestate: undefined });
  });

  it('never sends a malformed traceparent, nor the tracestate that came with it', async () => {
    expect(await sentUpstream({ traceparent: TRACE.toUpperCase(), tracestate: 'rojo=1' })).toEqual({ traceparent: undefined, tracestate: undefined });
    expect(await sentUpstream({})).toEqual({ traceparent: undefined, tracestate: undefined });
  });

  it('leaves the tracestate out where the privacy policy redacts (it is free text: an e-mail address fits it)', async () => {
    const tracestate = 'vendor=jane.doe@example.com';
    expect(await sentUpstream({ traceparent: TRACE, tracestate, 'x-edge-maas-privacy': 'pii=mask' })).toEqual({ traceparent: TRACE, tracestate: undefined });
    expect(await sentUpstream({ traceparent: TRACE, tracestate, 'x-edge-maas-privacy': 'pii=block' })).toEqual({ traceparent: TRACE, tracestate: undefined });
    expect(await sentUpstream({ traceparent: TRACE, tracestate })).toEqual({ traceparent: TRACE, tracestate });
  });

  it('is not kept from one request to the next', async () => {
    await sentUpstream({ traceparent: TRACE });
    expect(await sentUpstream({})).toEqual({ traceparent: undefined, tracestate: undefined });
  });
});

describe('W3C trace context parsing', () => {
  it('accepts version 00 exactly, and reads a later version as version 00 (only its sampled flag kept)', () => {
    expect(validTraceparent(TRACE)).toBe(TRACE);
    expect(validTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00');
    expect(validTraceparent('cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09')).toBe(TRACE);
    expect(validTraceparent('cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02-more')).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00');
  });

  it('refuses every malformed form', () => {
    for (const bad of [
      undefined, null, '', TRACE.slice(0, 54), `${TRACE}-`, `${TRACE}0`, ` ${TRACE}`,
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // version ff is invalid
      '0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', // hex is lower case
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x',
      '00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01',
      'cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.more', // a later version's extra fields follow a dash
      `${TRACE}, ${TRACE}`, // two traceparent headers, as fetch joins them
    ]) expect(validTraceparent(bad), String(bad)).toBeUndefined();
  });

  it('keeps a well-formed tracestate (members trimmed) and drops a malformed one', () => {
    expect(validTracestate('congo=t61rcWkgMzE, rojo=00f067aa0ba902b7,, tenant@vendor=x y')).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7,tenant@vendor=x y');
    for (const bad of ['', 'Congo=1', 'congo', '=1', 'congo=', 'congo=a=b', 'congo=1,congo=2', 'congo=café', `a=${'x'.repeat(600)}`,
      Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')]) expect(validTracestate(bad), bad).toBeUndefined();
  });

  it('sends a tracestate only with a valid traceparent', () => {
    expect(callerTraceHeaders(new Headers({ tracestate: 'rojo=1' }))).toEqual({});
    expect(callerTraceHeaders(new Headers({ traceparent: 'bad', tracestate: 'rojo=1' }))).toEqual({});
    expect(callerTraceHeaders(new Headers({ traceparent: TRACE, tracestate: 'rojo=1' }))).toEqual({ traceparent: TRACE, tracestate: 'rojo=1' });
  });
});
