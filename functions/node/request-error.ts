/**
 * What @hono/node-server cannot turn into a Request (an invalid Host header, a backslash in the path, an absolute
 * URL with another scheme) is answered in the API's JSON error shape instead of a bare 400.
 */
import { RequestError } from '@hono/node-server';

export function requestErrorAsJson(error: unknown): Response {
  // Every answer carries a request id, as the app's do; the client's cannot be trusted from a request this broken.
  const headers = { 'x-request-id': crypto.randomUUID() };
  if (error instanceof RequestError) {
    return Response.json({ error: { message: `the request cannot be read: ${error.message}`, type: 'invalid_request_error', code: 'malformed_request', param: null } }, { status: 400, headers: { ...headers, connection: 'close' } });
  }
  console.error(`request ${headers['x-request-id']} failed before the app: ${error instanceof Error ? error.name : 'error'}`);
  return Response.json({ error: { message: 'internal error', type: 'server_error', code: 'internal_error', param: null } }, { status: 500, headers });
}
