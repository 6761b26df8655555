/**
 * Billing's errors as HTTP answers, in one place: each kind's status and our error body's type and code, with the
 * headers a client needs to retry (Retry-After, RateLimit). Billing's HTTP edge (the middleware, the admin and usage
 * routes) throws what this returns; the app's error handler writes it.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ApiError } from '../http/errors.js';
import { BillingError, type BillingErrorKind } from './billing-errors.js';
import { rateLimitHeaders } from './rate-limit-headers.js';

const ANSWERS: Record<BillingErrorKind, { status: ContentfulStatusCode; type: string; code: string }> = {
  key_missing: { status: 401, type: 'authentication_error', code: 'missing_api_key' },
  key_invalid: { status: 401, type: 'authentication_error', code: 'invalid_api_key' },
  key_disabled: { status: 403, type: 'authentication_error', code: 'key_disabled' },
  key_revoked: { status: 403, type: 'authentication_error', code: 'key_revoked' },
  rate_limited: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  budget_exhausted: { status: 402, type: 'billing_error', code: 'budget_exhausted' },
  idempotency_key_invalid: { status: 400, type: 'invalid_request_error', code: 'invalid_idempotency_key' },
  idempotency_conflict: { status: 422, type: 'invalid_request_error', code: 'idempotency_key_reused' },
  idempotency_in_flight: { status: 409, type: 'invalid_request_error', code: 'idempotency_in_progress' },
  invalid: { status: 400, type: 'invalid_request_error', code: 'invalid_request' },
  tenant_unknown: { status: 400, type: 'invalid_request_error', code: 'unknown_tenant' },
  tenant_exists: { status: 409, type: 'invalid_request_error', code: 'tenant_exists' },
  key_not_found: { status: 404, type: 'invalid_request_error', code: 'key_not_found' },
  key_already_revoked: { status: 409, type: 'invalid_request_error', code: 'key_revoked' },
};

export function billingErrorToApi(error: BillingError): ApiError {
  const { status, type, code } = ANSWERS[error.kind];
  const headers = {
    ...(error.limit ? rateLimitHeaders(error.limit) : {}),
    ...(error.retryAfterSeconds === null ? {} : { 'Retry-After': String(error.retryAfterSeconds) }),
  };
  return new ApiError(status, error.message, type, code, error.param, headers);
}

/** A BillingError as its HTTP answer; any other error as it is (for `catch` and `onError` around billing calls). */
export const toApiError = (error: unknown): unknown => (error instanceof BillingError ? billingErrorToApi(error) : error);
