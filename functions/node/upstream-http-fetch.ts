/**
 * The router's fetch to its GPU upstreams in Node: node:http over a keep-alive agent instead of undici's fetch.
 * A streamed completion costs the router a request and one chunk per token; undici builds Request, Headers and
 * body streams per request and runs a promise loop per chunk, node:http parses in C++ and hands over a Buffer
 * (bench/generate/profile.ts measures the router's CPU per token with either). Only what UpstreamClient sends takes
 * this path, a plain-http request with a string body or none; anything else (https, streams, FormData) goes to
 * global fetch. Failures read as undici's do: a connection failure or an abort rejects (TypeError, AbortError), a
 * body cut short fails its read, and cancelling the body closes the connection (the upstream frees its slot).
 */
import { Agent, request, type IncomingMessage } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 1024 });

/** Statuses whose Response may not have a body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

const abortError = (signal: AbortSignal) => (signal.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError'));

function responseHeaders(message: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = message.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

/** The body as a stream: the socket is paused while 64 KiB wait for the reader, and destroyed on cancel. */
function bodyStream(message: IncomingMessage, signal: AbortSignal | undefined): ReadableStream<Uint8Array> {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let settled = false;
  const fail = (error: unknown) => {
    if (settled) return;
    settled = true;
    controller.error(error);
    message.destroy();
  };
  const onAbort = () => fail(abortError(signal!));
  signal?.addEventListener('abort', onAbort, { once: true });
  const done = () => signal?.removeEventListener('abort', onAbort);
  message.on('data', (chunk: Buffer) => {
    if (settled) return;
    controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if ((controller.desiredSize ?? 0) <= 0) message.pause();
  });
  message.on('end', () => {
    done();
    if (settled) return;
    settled = true;
    controller.close();
  });
  // A connection closed before the body's end (the upstream broke off) fails the read, as undici's "terminated".
  message.on('close', () => {
    done();
    if (!message.complete) fail(new TypeError('terminated'));
  });
  message.on('error', (error) => fail(new TypeError('terminated', { cause: error })));
  return new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
    pull: () => void message.resume(),
    cancel: () => {
      settled = true;
      done();
      message.destroy();
    },
  }, { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength });
}

/** A plain object (what UpstreamClient passes) is taken as it is: Headers' WebIDL conversion costs more than the call. */
function requestHeaders(init: HeadersInit | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (init && !(init instanceof Headers) && !Array.isArray(init) && Object.values(init).every((v) => typeof v === 'string')) {
    for (const name in init) headers[name.toLowerCase()] = (init as Record<string, string>)[name]!;
  } else new Headers(init).forEach((value, name) => void (headers[name] = value));
  return headers;
}

export const upstreamHttpFetch: typeof fetch = (input, init) => {
  const href = typeof input === 'string' ? input : input instanceof URL ? input.href : null;
  const body = init?.body;
  if (href === null || !href.startsWith('http:') || (body != null && typeof body !== 'string')) return fetch(input, init);
  const url = new URL(href);
  const signal = init?.signal ?? undefined;
  const method = (init?.method ?? 'GET').toUpperCase();
  const headers = requestHeaders(init?.headers);
  if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body));
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    let answered = false;
    const outgoing = request({ agent, host: url.hostname, port: url.port || 80, path: `${url.pathname}${url.search}`, method, headers }, (message) => {
      answered = true;
      signal?.removeEventListener('abort', onAbort);
      const status = message.statusCode ?? 502;
      const nullBody = NULL_BODY.has(status) || method === 'HEAD';
      try {
        const headers = responseHeaders(message); // throws on a header value fetch would refuse too
        if (nullBody) message.resume();
        resolve(new Response(nullBody ? null : bodyStream(message, signal), { status, headers }));
      } catch (error) {
        message.destroy();
        reject(new TypeError('fetch failed', { cause: error }));
      }
    });
    const onAbort = () => {
      outgoing.destroy();
      reject(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    outgoing.on('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      if (!answered) reject(new TypeError('fetch failed', { cause: error }));
    });
    outgoing.end(body ?? undefined);
  });
};
