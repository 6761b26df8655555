/**
 * The ways billing refuses a request or an admin change, as kinds of one error. Billing's core throws these and
 * never builds an HTTP answer; billing-http-errors.ts turns each kind into one (status, error body, headers), and the
 * CLIs print the message.
 */
import type { LimitDecision } from './rate-limiter.js';

export type BillingErrorKind =
  | 'key_missing'
  | 'key_invalid'
  | 'key_disabled'
  | 'key_revoked'
  | 'rate_limited'
  | 'budget_exhausted'
  | 'idempotency_key_invalid'
  | 'idempotency_conflict'
  | 'idempotency_in_flight'
  | 'invalid'
  | 'tenant_unknown'
  | 'tenant_exists'
  | 'key_not_found'
  | 'key_already_revoked';

export interface BillingErrorDetails {
  /** The input the error is about: a field of an admin request, or the Idempotency-Key header. */
  param?: string;
  /** The rate-limit decision of the refused request, whose limits and remaining room the client is told. */
  limit?: LimitDecision;
  /** When a retry may succeed, where that is known without a limit decision. */
  retryAfterSeconds?: number;
}

export class BillingError extends Error {
  override name = 'BillingError';
  readonly param: string | null;
  readonly limit: LimitDecision | null;
  readonly retryAfterSeconds: number | null;

  constructor(readonly kind: BillingErrorKind, message: string, details: BillingErrorDetails = {}) {
    super(message);
    this.param = details.param ?? null;
    this.limit = details.limit ?? null;
    this.retryAfterSeconds = details.retryAfterSeconds ?? null;
  }
}
