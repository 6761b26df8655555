/** Reads a JSON request body: 415 for another content type, 400 for bytes that are not UTF-8 JSON. */
import type { Context } from 'hono';
import { ApiError, invalidRequest } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function readJsonBody(c: Context): Promise<unknown> {
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
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidRequest(`the body is not valid JSON: ${(error as Error).message}`, null, 'invalid_json');
  }
}
