/**
 * Building blocks of the route declarations' `responses`: the error body every failure answers (errors.ts's shape)
 * and the answers that routes in more than one layer document.
 */
import { z } from '@hono/zod-openapi';

export const ErrorBody = z
  .object({
    error: z.object({
      message: z.string().openapi({ description: 'What went wrong, for a person to read.' }),
      type: z.string().openapi({ example: 'invalid_request_error' }),
      code: z.string().openapi({ example: 'invalid_request' }),
      param: z.string().nullable().openapi({ description: 'The request field at fault, when one is.', example: 'input' }),
    }),
  })
  .openapi('Error');

export const jsonResponse = <S extends z.ZodType>(schema: S, description: string) => ({ description, content: { 'application/json': { schema } } });

export const badRequestResponse = jsonResponse(ErrorBody, 'Malformed JSON, invalid UTF-8, or an invalid field (error.param names it).');

/** What the billing middleware answers on a metered route (/v1/*, /models/*) when it refuses the request. */
export const meteringResponses = {
  401: jsonResponse(ErrorBody, 'With API keys required: no key, or an unknown one.'),
  402: jsonResponse(ErrorBody, "The request's maximum cost does not fit in what is left of the key's monthly budget."),
  403: jsonResponse(ErrorBody, 'The key is disabled or revoked.'),
  409: jsonResponse(ErrorBody, 'A request with this Idempotency-Key is still running: retry after Retry-After.'),
  422: jsonResponse(ErrorBody, 'This Idempotency-Key was used with another request (method, path or body) in the last 24 hours.'),
  429: jsonResponse(ErrorBody, 'Rate limit reached: see Retry-After, RateLimit and x-ratelimit-* headers.'),
} as const;
