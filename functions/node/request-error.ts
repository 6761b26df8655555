/**
 * What @hono/node-server cannot turn into a Request (an invalid Host header, a backslash in the path, an absolute
 * URL with another scheme) is answered in the API's JSON error shape instead of a bare 400.
 */
import { RequestError } from '@hono/node-server';
import { errorJson } from '../http/errors.js';

export function requestErrorAsJson(error: unknown): Response {
  // Every answer carries a request id, as the app's do; the client's cannot be trusted from a request this broken.
  const headers = { 'x-request-id': crypto.randomUUID() };
  if (error instanceof RequestError) {
    return errorJson(400, `the request cannot be read: ${error.message}`, 'invalid_request_error', 'malformed_request', { ...headers, connection: 'close' });
  }
  console.error(`request ${headers['x-request-id']} failed before the app: ${error instanceof Error ? error.name : 'error'}`);
  return errorJson(500, 'internal error', 'server_error', 'internal_error', headers);
}
