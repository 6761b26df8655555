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
