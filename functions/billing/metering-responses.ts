/**
 * What billing's middleware may answer instead of a metered route (/v1/*, /models/*): the plugin documents these on
 * every operation it runs on, so the core routes do not have to know billing exists.
 */
import { ErrorBody, jsonResponse } from '../http/openapi-responses.js';

export const meteringResponses = {
  401: jsonResponse(ErrorBody, 'With API keys required: no key, or an unknown one.'),
  402: jsonResponse(ErrorBody, "The request's maximum cost does not fit in what is left of the key's monthly budget."),
  403: jsonResponse(ErrorBody, 'The key is disabled or revoked.'),
  409: jsonResponse(ErrorBody, 'A request with this Idempotency-Key is still running: retry after Retry-After.'),
  422: jsonResponse(ErrorBody, 'This Idempotency-Key was used with another request (method, path or body) in the last 24 hours.'),
  429: jsonResponse(ErrorBody, 'Rate limit reached: see Retry-After, RateLimit and x-ratelimit-* headers.'),
} as const;
