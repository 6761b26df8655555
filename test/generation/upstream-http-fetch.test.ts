// The Node router's upstream fetch (node:http) against real servers on 127.0.0.1: what undici's fetch answers, the
// same way (status, headers, chunks as they are written, failures), and what the router does over it end to end.
// The router's fault suites run over it too with UPSTREAM_FETCH=node (upstream-helpers.ts).
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamHttpFetch } from '../../functions/node/upstream-http-fetch.js';
import { startGenerationServer, type RunningGenerationServer } from '../../functions/node/start-generation-server.js';
import { closedPort, rawUpstream, readEvents, router, stopAfterEach } from './upstream-helpers.js';

stopAfterEach();

let live: RunningGenerationServer;
beforeAll(async () => void (live = await startGenerationServer({ port: 0 })));
afterAll(async () => live.close());

const post = (url: string, body: string, signal?: AbortSignal) =>
  upstreamHttpFetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-trace': 't1' }, body, signal });

describe('upstreamHttpFetch', () => {
  it('sends the body and headers, and answers status, headers and body as fetch does', async () => {
    let seen: { body: string; trace: string | undefined; length: string | undefined } | null = null;
    const up = await rawUpstream((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen = { body, trace: req.headers['x-trace'] as string | undefined, length: req.headers['content-length'] };
        res.writeHead(400, { 'content-type': 'application/json', 'x-many': ['a', 'b'] }).end('{"error":{"message":"é"}}');
      });
    });
    const ours = await post(up.url, '{"p":"é"}');
    expect(seen).toEqual({ body: '{"p":"é"}', trace: 't1', length: '10' });
    const theirs = await fetch(`${up.url}/v1/completions`, { method: 'POST', body: '{"p":"é"}' });
    expect(ours.status).toBe(400);
    expect(ours.headers.get('content-type')).toBe('application/json');
    expect(ours.headers.get('x-many')).toBe(theirs.headers.get('x-many'));
    expect(await ours.text()).toBe(await theirs.text());
  });

  it('hands each chunk over as it arrives, not when the body ends', async () => {
    let next!: () => void;
    const up = await rawUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      next = () => res.end('data: two\n\n');
    });
    const reader = (await post(up.url, '{}')).body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: one\n\n');
    next();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: two\n\n');
    expect((await reader.read()).done).toBe(true);
  });

  it('rejects with a TypeError when nothing listens, and with AbortError when aborted before the answer', async () => {
    await expect(post(`http://127.0.0.1:${await closedPort()}`, '{}')).rejects.toThrow(TypeError);
    const held = await rawUpstream(() => {});
    const abort = new AbortController();
    const answer = post(held.url, '{}', abort.signal);
    setTimeout(() => abort.abort(), 20);
    await expect(answer).rejects.toMatchObject({ name: 'AbortError' });
    abort.abort();
    await expect(post(held.url, '{}', abort.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('fails the read of a body the upstream cuts off, and of one whose signal aborts', async () => {
    const cut = await rawUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n', () => setTimeout(() => res.socket!.destroy(), 20));
    });
    const reader = (await post(cut.url, '{}')).body!.getReader();
    await reader.read();
    await expect(reader.read()).rejects.toThrow(TypeError);

    let closed!: Promise<unknown>;
    const slow = await rawUpstream((req, res) => {
      closed = once(req.socket, 'close');
      res.writeHead(200, { 'content-type': 'text/event-stream' }).write('data: one\n\n');
    });
    const abort = new AbortController();
    const aborted = (await post(slow.url, '{}', abort.signal)).body!.getReader();
    await aborted.read();
    abort.abort();
    await expect(aborted.read()).rejects.toMatchObject({ name: 'AbortError' });
    await closed; // the upstream sees the connection go
  });

  it('closes the connection when the body is cancelled, so the upstream stops generating', async () => {
    let closed!: Promise<unknown>;
    const up = await rawUpstream((req, res) => {
      closed = once(req.socket, 'close');
      res.writeHead(200, { 'content-type': 'text/event-stream' }).write('data: one\n\n');
    });
    const body = (await post(up.url, '{}')).body!;
    const reader = body.getReader();
    await reader.read();
    await reader.cancel();
    await closed;
  });

  it('pauses the upstream while the reader is behind', async () => {
    let written = 0;
    let blocked!: () => void;
    const full = new Promise<void>((resolve) => (blocked = resolve));
    const chunk = 'x'.repeat(16 * 1024);
    const up = await rawUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const pump = () => {
        while (written < 4096) {
          written++;
          if (!res.write(chunk)) {
            blocked();
            return void res.once('drain', pump);
          }
        }
        res.end();
      };
      pump();
    });
    const response = await post(up.url, '{}');
    await full;
    await new Promise((r) => setTimeout(r, 100));
    expect(written).toBeLessThan(512); // not 64 MiB read into the router's memory while nobody reads
    expect((await response.arrayBuffer()).byteLength).toBe(4096 * chunk.length);
  });

  it('serves the router: a streamed completion through it is the one undici gives, usage included', async () => {
    const body = { model: 'story', prompt: 'Once upon a time', max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true } };
    const events = async (fetchFn?: typeof fetch) => {
      const { url } = await router([live.url], fetchFn ? { fetch: fetchFn } : { fetch: (input, init) => fetch(input, init) });
      const response = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return (await readEvents(response)).map((e) => e.replace(/"id":"[^"]+"|"created":\d+/g, ''));
    };
    const ours = await events(upstreamHttpFetch);
    expect(ours).toEqual(await events());
    expect(ours.at(-1)).toBe('[DONE]');
    expect(ours.at(-2)).toContain('"completion_tokens":12');
  });
});
