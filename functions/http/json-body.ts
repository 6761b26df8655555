/**
 * Reads request bodies: the bytes (gzip or deflate decoded, bounded), and JSON objects (415 for another content
 * type, 400 for anything but a UTF-8 JSON object). A client that goes away mid-upload is a client error (499),
 * never a server error.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError, invalidRequest } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Decoded bodies are held to what an uncompressed one may be (the app's body limit, 1 MiB by default). */
export const DECODED_BODY_LIMIT = 1024 * 1024;
const ENCODINGS = { gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate' } as const;
/** Deeper JSON serves no request of this API, and what the app does with a body (JSON.stringify when it forwards
 * one upstream, zod) recurses: 100,000 levels in 200 KB made a 500. */
export const MAX_JSON_DEPTH = 64;

/** Whether the JSON text nests arrays and objects deeper than `limit` (strings skipped), without parsing it. */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

export const clientClosed = () =>
  new ApiError(499 as ContentfulStatusCode, 'the client closed the connection before the request was read', 'invalid_request_error', 'client_closed');

/** The body as sent (still encoded), read once: Hono keeps it for later readers. */
export async function rawBody(c: Context): Promise<Uint8Array> {
  try {
    return new Uint8Array(await c.req.arrayBuffer());
  } catch (error) {
    if (error instanceof ApiError) throw error; // bodyLimit's 413
    throw clientClosed();
  }
}

async function decode(bytes: Uint8Array, encoding: string): Promise<Uint8Array> {
  const format = ENCODINGS[encoding as keyof typeof ENCODINGS];
  if (!format) {
    throw new ApiError(415, `Content-Encoding "${encoding}" is not supported; send gzip, deflate or none`, 'invalid_request_error', 'unsupported_content_encoding');
  }
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream(format)).getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > DECODED_BODY_LIMIT) {
        await reader.cancel();
        throw new ApiError(413, `the decoded body is over ${DECODED_BODY_LIMIT} bytes`, 'invalid_request_error', 'body_too_large');
      }
      parts.push(value);
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw invalidRequest(`the body is not valid ${format} data`, null, 'invalid_encoding');
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError(415, `send the body as application/json (got "${type || 'no content type'}")`, 'invalid_request_error', 'unsupported_media_type');
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new ApiError(415, `send the body as UTF-8 JSON (got charset "${charset.slice(0, 40)}")`, 'invalid_request_error', 'unsupported_media_type');
  }
  const encoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
  const sent = await rawBody(c);
  const bytes = encoding === 'identity' || encoding === '' ? sent : await decode(sent, encoding);
  if (bytes.length === 0) throw invalidRequest('the request has no body', null, 'missing_body');
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw invalidRequest('the body is not valid UTF-8', null, 'invalid_encoding');
  }
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) throw invalidRequest(`the body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`, null, 'too_deeply_nested');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw invalidRequest(`the body is not valid JSON: ${(error as Error).message}`, null, 'invalid_json');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('the body must be a JSON object');
  return body as Record<string, unknown>;
}
