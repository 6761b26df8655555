/**
 * Sends fuzz cases with node:http (duplicate headers, chunked writes and hang-ups as a raw client would), raw bytes
 * with node:net, and checks every answer against what the API promises.
 */
import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { FuzzCase } from './fuzz-cases.js';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** We hung up after the first bytes: the body is partial. */
  cut?: boolean;
}
export type Outcome = Answer | { hungUp: true } | { failed: string };

export interface Target {
  host: string;
  port: number;
  /** {key}, {admin}, ... in paths and header values. */
  placeholders: Record<string, string>;
}

const fill = (text: string, values: Record<string, string>) => text.replace(/\{(\w+)\}/g, (all, name: string) => values[name] ?? all);

function headersOf(fuzz: FuzzCase, values: Record<string, string>): OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of fuzz.headers) {
    const v = fill(value, values);
    const had = out[name];
    out[name] = had === undefined ? v : [...(Array.isArray(had) ? had : [had]), v];
  }
  return out;
}

export function send(target: Target, fuzz: FuzzCase, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const headers = headersOf(fuzz, target.placeholders);
    const body = fuzz.body;
    if (body && fuzz.chunks === undefined) headers['content-length'] = fuzz.hangUp === 'upload' ? body.length + 1_000 : body.length;
    // Node frames GET, HEAD, DELETE and OPTIONS bodies only when told to: unframed bytes would be a second request.
    if (body && fuzz.chunks !== undefined) headers['transfer-encoding'] = 'chunked';
    let req: ReturnType<typeof request>;
    try {
      req = request({ host: target.host, port: target.port, method: fuzz.method, path: fill(fuzz.path, target.placeholders), headers, agent: false });
    } catch (error) {
      done({ failed: `the client refused to send it: ${(error as Error).message}` });
      return;
    }
    timer = setTimeout(() => {
      req.destroy();
      done({ failed: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('error', (error) => done(fuzz.hangUp === 'upload' ? { hungUp: true } : { failed: `connection error before an answer: ${error.message}` }));
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        parts.push(chunk);
        if (fuzz.hangUp === 'response') {
          req.destroy();
          done({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts), cut: true });
        }
      });
      res.on('end', () => done({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', (error) => done({ failed: `the answer broke off: ${error.message}` }));
    });
    if (fuzz.hangUp === 'upload' && body) {
      req.write(body.subarray(0, Math.ceil(body.length / 2)));
      setTimeout(() => {
        req.destroy();
        done({ hungUp: true });
      }, 30);
      return;
    }
    if (body && fuzz.chunks !== undefined) {
      const size = Math.ceil(body.length / fuzz.chunks) || 1;
      for (let at = 0; at < body.length; at += size) req.write(body.subarray(at, at + size));
    }
    req.end(body && fuzz.chunks === undefined ? body : undefined);
  });
}

/** Raw bytes on a fresh connection; the answer is what came back before the server closed it or the time ran out. */
export function sendRaw(host: string, port: number, bytes: string | Buffer, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const socket = connect({ host, port }, () => socket.write(bytes));
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parseRaw(Buffer.concat(parts)));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (chunk: Buffer) => parts.push(chunk));
    socket.on('end', finish);
    socket.on('error', finish);
  });
}

function parseRaw(bytes: Buffer): Outcome {
  const split = bytes.indexOf('\r\n\r\n');
  if (split < 0) return { failed: bytes.length === 0 ? 'the server closed the connection without an answer' : `not an HTTP answer: ${bytes.toString('latin1').slice(0, 200)}` };
  const [statusLine, ...lines] = bytes.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
  if (!status) return { failed: `not an HTTP status line: ${statusLine}` };
  const headers: IncomingHttpHeaders = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? Number.NaN);
  const rest = bytes.subarray(split + 4);
  return { status, headers, body: Number.isNaN(length) ? rest : rest.subarray(0, length) };
}

/** Routes whose queues or upstreams may genuinely be busy: there, 503 with Retry-After is the documented answer. */
const SHEDDING = /^\/(v1\/classify|v1\/completions|v1\/chat\/completions|models\/.+)$/;

/** What the API promises of every answer: no 5xx, the JSON error shape for every 4xx/5xx, a request id, whole streams. */
export function violations(method: string, path: string, outcome: Outcome): string[] {
  if ('hungUp' in outcome) return [];
  if ('failed' in outcome) return [outcome.failed];
  const found: string[] = [];
  const { status, headers } = outcome;
  const text = outcome.body.toString('utf8');
  const pathname = path.split('?')[0]!;
  if (status >= 500 && !(status === 503 && headers['retry-after'] && SHEDDING.test(pathname))) found.push(`a ${status}`);
  if (!headers['x-request-id']) found.push('no x-request-id');
  if (status >= 400 && method !== 'HEAD' && !outcome.cut) {
    const shape = errorShapeProblem(headers['content-type'], text);
    if (shape) found.push(shape);
  }
  if (status < 300 && method !== 'HEAD' && !outcome.cut) {
    const type = headers['content-type'] ?? '';
    if (type.startsWith('text/event-stream')) {
      if (/^data: \{"error"/m.test(text)) found.push('a stream that ended with an error event');
      else if (!text.trimEnd().endsWith('data: [DONE]')) found.push('a stream that did not end with data: [DONE]');
    } else if (type.startsWith('application/json')) {
      try {
        JSON.parse(text);
      } catch {
        found.push('a 2xx whose JSON does not parse');
      }
    }
  }
  return found;
}

function errorShapeProblem(type: string | undefined, text: string): string | null {
  if (!type?.startsWith('application/json')) return `an error with content-type ${type ?? 'none'}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'an error body that is not JSON';
  }
  const error = (body as { error?: Record<string, unknown> } | null)?.error;
  const ok = typeof error === 'object' && error !== null && typeof error.message === 'string' && error.message.length > 0
    && typeof error.type === 'string' && typeof error.code === 'string' && (error.param === null || typeof error.param === 'string');
  return ok ? null : 'an error body not in the { error: { message, type, code, param } } shape';
}
