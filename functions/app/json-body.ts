/** Reads a JSON object request body: 415 for another content type, 400 for anything but a UTF-8 JSON object. */
import type { Context } from 'hono';
import { ApiError, invalidRequest } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError(415, `send the body as application/json (got "${type || 'no content type'}")`, 'invalid_request_error', 'unsupported_media_type');
  }
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.length === 0) throw invalidRequest('the request has no body', null, 'missing_body');
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw invalidRequest('the body is not valid UTF-8', null, 'invalid_encoding');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw invalidRequest(`the body is not valid JSON: ${(error as Error).message}`, null, 'invalid_json');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('the body must be a JSON object');
  return body as Record<string, unknown>;
}
