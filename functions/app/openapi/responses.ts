/** The answers the core routes document besides their own 200s: client errors, overload, and the GPU upstream's. */
import { z } from '@hono/zod-openapi';
import { badRequestResponse, ErrorBody, jsonResponse } from '../../http/openapi-responses.js';

export const clientErrors = {
  400: badRequestResponse,
  404: jsonResponse(ErrorBody, 'Unknown model; the message lists the available ones.'),
  413: jsonResponse(ErrorBody, 'The body is over the size limit (1 MiB, after gzip or deflate decoding).'),
  415: jsonResponse(ErrorBody, 'The body is not application/json, or its Content-Encoding is not gzip, deflate or none.'),
  503: jsonResponse(ErrorBody, 'Overloaded: the queue is full. Retry after the Retry-After header.'),
} as const;

export const upstreamErrors = {
  502: jsonResponse(ErrorBody, 'The GPU upstream failed.'),
  503: jsonResponse(ErrorBody, 'No upstream is available (its circuit is open, or none is configured).'),
  504: jsonResponse(ErrorBody, 'The upstream did not answer in time.'),
} as const;

export const completionAnswer = (what: string) => ({
  description: `${what}, in OpenAI's shape; with "stream": true, server-sent events (data: {chunk} lines, then data: [DONE]).`,
  content: {
    'application/json': { schema: z.object({ id: z.string(), object: z.string(), choices: z.array(z.unknown()), usage: z.unknown() }) },
    'text/event-stream': { schema: z.string() },
  },
});
