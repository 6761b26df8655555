/**
 * Authentication, rate limits, budgets, idempotency and metering around every API request. After a key is
 * accepted, each request yields exactly one usage record, refused (429, 402) or not; a streamed answer is
 * metered when its stream ends or is cancelled, with what it produced. Bodies are never recorded.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { ApiError, errorJson } from '../app/errors.js';
import { requestIdOf } from '../app/request-id.js';
import { presentedKey } from './api-keys.js';
import type { Authenticator } from './authenticator.js';
import type { BudgetGuard } from './budget-guard.js';
import { meterOf } from './meter.js';
import { costMicroUsd } from './pricing.js';
import type { KeyLimiter } from './rate-limiter.js';
import { onStreamEnd } from './stream-end.js';
import type { ApiKeyRecord, BillingStore } from './types.js';
import type { UsageWriter } from './usage-writer.js';

export interface Billing {
  /** "keys": every API request needs a key; "open": no keys, requests are still metered (without a key). */
  mode: 'keys' | 'open';
  store: BillingStore;
  authenticator: Authenticator;
  limiter: KeyLimiter;
  budgets: BudgetGuard;
  writer: UsageWriter;
  now?: () => number;
}

const authenticated = new WeakMap<Request, ApiKeyRecord>();

/** The key this request was accepted with (none in open mode). */
export const authenticatedKey = (request: Request): ApiKeyRecord | undefined => authenticated.get(request);

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
const OPEN_IDEMPOTENCY_SCOPE = '(open)';

function refuse(status: 401 | 402 | 403 | 429, message: string, code: string, headers: Record<string, string> = {}): Response {
  return errorJson(status, message, status === 429 ? 'rate_limit_error' : status === 402 ? 'billing_error' : 'authentication_error', code, headers);
}

export function billingMiddleware(billing: Billing): MiddlewareHandler {
  const now = billing.now ?? (() => Date.now());
  return async (c: Context, next) => {
    const started = now();
    let key: ApiKeyRecord | null = null;
    if (billing.mode === 'keys') {
      const auth = await billing.authenticator.authenticate(presentedKey(c.req.raw.headers));
      if (!auth.ok) return refuse(auth.status, auth.message, auth.code);
      key = auth.key;
      authenticated.set(c.req.raw, key);
    }
    const limits = key ? { rpm: key.rpm, tpm: key.tpm } : null;
    let replay = false;
    const record = (status: number) => {
      const meter = meterOf(c.req.raw);
      const billable = status < 400 && !replay && meter.price !== null;
      const cost = billable ? costMicroUsd(meter.price!, meter.inputTokens, meter.outputTokens) : 0;
      billing.writer.record({
        requestId: requestIdOf(c.req.raw), keyId: key?.id ?? null, tenantId: key?.tenantId ?? null,
        model: meter.model, modelVersion: meter.modelVersion, path: meter.path, route: `${c.req.method} ${new URL(c.req.url).pathname}`,
        inputTokens: meter.inputTokens, outputTokens: meter.outputTokens, computeMs: Math.round(meter.computeMs * 1000) / 1000,
        status, costMicroUsd: cost, idempotentReplay: replay, createdAt: started,
      });
      if (key && limits) {
        billing.limiter.spend(key.id, limits, meter.inputTokens + meter.outputTokens);
        billing.budgets.add(key.id, started, cost).catch((error: unknown) => console.error(`budget update failed: ${error instanceof Error ? error.message : String(error)}`));
      }
    };

    let rateHeaders: Record<string, string> = {};
    if (key && limits) {
      const decision = await billing.limiter.take(key.id, limits);
      rateHeaders = decision.headers;
      if (!decision.allowed) {
        record(429);
        return refuse(429, `rate limit reached for this key (${key.rpm} requests and ${key.tpm} tokens per minute); retry after ${decision.retryAfterSeconds} s`, 'rate_limit_exceeded', rateHeaders);
      }
      if (key.monthlyBudgetMicroUsd !== null && (await billing.budgets.spentThisMonth(key.id, started)) >= key.monthlyBudgetMicroUsd) {
        record(402);
        return refuse(402, `this key's monthly budget of ${(key.monthlyBudgetMicroUsd / 1e6).toFixed(2)} USD is spent; it renews on the 1st (UTC)`, 'budget_exhausted', rateHeaders);
      }
    }
    const idempotencyKey = c.req.header('idempotency-key');
    if (idempotencyKey !== undefined) {
      if (idempotencyKey.length === 0 || idempotencyKey.length > 255) {
        record(400);
        throw new ApiError(400, 'Idempotency-Key must be 1 to 255 characters', 'invalid_request_error', 'invalid_idempotency_key');
      }
      replay = !(await billing.store.claimIdempotencyKey(key?.id ?? OPEN_IDEMPOTENCY_SCOPE, idempotencyKey, requestIdOf(c.req.raw), started, started - IDEMPOTENCY_WINDOW_MS));
    }

    try {
      await next();
    } catch (error) {
      record(error instanceof ApiError ? error.status : 500);
      throw error;
    }
    for (const [name, value] of Object.entries(rateHeaders)) c.res.headers.set(name, value);
    if (replay) c.res.headers.set('Idempotent-Replayed', 'true');
    const status = c.res.status;
    if (c.res.body && (c.res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      c.res = new Response(onStreamEnd(c.res.body, () => record(status)), c.res);
    } else {
      record(status);
    }
  };
}
