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

/** How much of a name a client asked for an answer repeats: enough to see the typo, not a client's 15 KB back at it. */
const SHOWN_NAME_CHARS = 100;

/** 404 for a model name nothing serves (the router's registry, the generation server's models), with what is. */
export function modelNotFound(name: string, available: string[]): ApiError {
  const shown = name.length > SHOWN_NAME_CHARS ? `${name.slice(0, SHOWN_NAME_CHARS)}…` : name;
  return new ApiError(404, `model "${shown}" does not exist; available: ${available.join(', ')}`, 'invalid_request_error', 'model_not_found', 'model');
}

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
