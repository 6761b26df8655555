/**
 * The response with its end held back until `settle` has run: on Lambda the execution environment is frozen once
 * the response is complete, so the usage record metered at the body's end (and the rate-limit counts) must reach
 * DynamoDB before the last byte is released. Clients see every byte as before; only the end waits for the write.
 */
import { onStreamEnd } from '../billing/stream-end.js';

export function settleAfterBody(response: Response, settle: () => Promise<void>): Response | Promise<Response> {
  if (!response.body) return settle().then(() => response);
  return new Response(onStreamEnd(response.body, settle), { status: response.status, statusText: response.statusText, headers: response.headers });
}
