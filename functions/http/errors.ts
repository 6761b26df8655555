/** One error shape for every failure, as OpenAI's API answers: { error: { message, type, code, param } }. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly type: string,
    readonly code: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const invalidRequest = (message: string, param: string | null = null, code = 'invalid_request') =>
  new ApiError(400, message, 'invalid_request_error', code, param);

export function errorResponse(c: Context, error: ApiError): Response {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  return c.json({ error: { message: error.message, type: error.type, code: error.code, param: error.param } }, error.status);
}

/** The error shape as a JSON text, for answers written without a Hono context or a Response (raw sockets). */
export const errorBody = (message: string, type: string, code: string): string => JSON.stringify({ error: { message, type, code, param: null } });

/** The same shape without a Hono context, for entries that answer before the app exists. */
export function errorJson(status: number, message: string, type: string, code: string, headers: Record<string, string> = {}): Response {
  return new Response(errorBody(message, type, code), { status, headers: { 'content-type': 'application/json', ...headers } });
}
