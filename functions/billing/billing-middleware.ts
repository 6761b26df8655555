/**
 * Authentication, rate limits, budgets, idempotency and metering around every API request. After a key is
 * accepted, each request yields exactly one usage record with an id of its own, refused (429, 402) or not; a
 * streamed answer is metered when its stream ends or is cancelled, with what it produced. Routes that run a model
 * call `c.var.admit` with the request's maximum use once they have validated it: rate limits and budget are
 * checked and that maximum reserved in one step, so that concurrent requests (in this process or another that
 * shares the store) cannot overspend; the reservation is settled against what the request used when it ends.
 * Bodies are never recorded.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv, UsageEstimate } from '../http/request-context.js';
import { ApiError } from '../http/errors.js';
import { rawBody } from '../http/json-body.js';
import { presentedKey } from './api-keys.js';
import type { Authenticator } from './authenticator.js';
import { claim, collectStream, OPEN_IDEMPOTENCY_SCOPE, requestHash, settleClaim, type IdempotencySlot } from './idempotency.js';
import { costMicroUsd } from '../registry/pricing.js';
import type { KeyLimiter } from './rate-limiter.js';
import { onStreamEnd } from './stream-end.js';
import type { ApiKeyRecord, BillingStore } from './types.js';
import type { UsageSink } from './usage-writer.js';

export interface Billing {
  /** "keys": every API request needs a key; "open": no keys, requests are still metered (without a key). */
  mode: 'keys' | 'open';
  store: BillingStore;
  authenticator: Authenticator;
  limiter: KeyLimiter;
  writer: UsageSink;
  now?: () => number;
  newId?: () => string;
}

const refusal = (status: 401 | 402 | 403 | 409 | 422 | 429, message: string, code: string, headers: Record<string, string> = {}) =>
  new ApiError(status, message, status === 429 ? 'rate_limit_error' : status === 402 ? 'billing_error' : status >= 409 ? 'invalid_request_error' : 'authentication_error', code, null, headers);

/** The Worker's ExecutionContext.waitUntil for this request; none in Node and Lambda (Hono throws there). */
function requestWaitUntil(c: Context): ((work: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    return undefined;
  }
}

const isStream = (response: Response) => response.body !== null && (response.headers.get('content-type') ?? '').startsWith('text/event-stream');

export function billingMiddleware(billing: Billing): MiddlewareHandler<AppEnv> {
  const now = billing.now ?? (() => Date.now());
  const newId = billing.newId ?? (() => crypto.randomUUID());
  return async (c, next) => {
    const started = now();
    const usageId = newId();
    const waitUntil = requestWaitUntil(c);
    let key: ApiKeyRecord | null = null;
    if (billing.mode === 'keys') {
      const auth = await billing.authenticator.authenticate(presentedKey(c.req.raw.headers));
      if (!auth.ok) throw refusal(auth.status, auth.message, auth.code);
      key = auth.key;
      c.set('apiKey', key);
    }
    const limits = key ? { rpm: key.rpm, tpm: key.tpm } : null;
    let admitted = false;
    let taken = false;
    let reservedTokens = 0;
    let heldMicroUsd = 0;
    let replay = false;
    let recorded = false;
    let rateHeaders: Record<string, string> = {};

    const record = (status: number) => {
      if (recorded) return;
      recorded = true;
      const meter = c.var.meter;
      const billable = status < 400 && !replay && meter.price !== null;
      const cost = billable ? costMicroUsd(meter.price!, meter.inputTokens, meter.outputTokens) : 0;
      const written = billing.writer.record({
        id: usageId, requestId: c.var.requestId, keyId: key?.id ?? null, tenantId: key?.tenantId ?? null,
        model: meter.model, modelVersion: meter.modelVersion, path: meter.path, route: `${c.req.method} ${new URL(c.req.url).pathname}`,
        inputTokens: meter.inputTokens, outputTokens: meter.outputTokens, computeMs: Math.round(meter.computeMs * 1000) / 1000,
        status, costMicroUsd: cost, idempotentReplay: replay, createdAt: started, heldMicroUsd,
      });
      if (key && limits && taken) {
        const settled = billing.limiter.settle(key.id, limits, meter.inputTokens + meter.outputTokens, reservedTokens, started);
        if (settled && waitUntil) waitUntil(settled);
      }
      if (waitUntil) waitUntil(written ?? billing.writer.flush());
    };

    const admit = async (estimate: UsageEstimate) => {
      if (admitted) return;
      admitted = true;
      if (!key || !limits) return;
      const decision = await billing.limiter.take(key.id, limits, estimate.tokens);
      rateHeaders = decision.headers;
      if (!decision.allowed) {
        record(429);
        throw refusal(429, `rate limit reached for this key (${key.rpm} requests and ${key.tpm} tokens per minute); retry after ${decision.retryAfterSeconds} s`, 'rate_limit_exceeded', rateHeaders);
      }
      taken = true;
      reservedTokens = estimate.tokens;
      const budget = key.monthlyBudgetMicroUsd;
      if (budget !== null && estimate.costMicroUsd > 0) {
        if (!(await billing.store.holdBudget({ id: usageId, keyId: key.id, microUsd: estimate.costMicroUsd, budgetMicroUsd: budget, at: started }))) {
          record(402);
          throw refusal(402, `this request may cost up to ${estimate.costMicroUsd} micro-USD, more than is left of this key's monthly budget of ${(budget / 1e6).toFixed(2)} USD; it renews on the 1st (UTC)${estimate.lowerWith ? ` (a lower ${estimate.lowerWith} costs less)` : ''}`, 'budget_exhausted', rateHeaders);
        }
        heldMicroUsd = estimate.costMicroUsd;
      }
    };
    c.set('admit', admit);

    // Requests that run no model (listings, usage) are admitted at once; the others once their route knows their size.
    if (c.req.method !== 'POST') await admit({ tokens: 0, costMicroUsd: 0 });

    let slot: IdempotencySlot | null = null;
    const idempotencyKey = c.req.header('idempotency-key');
    if (idempotencyKey !== undefined) {
      if (idempotencyKey.length === 0 || idempotencyKey.length > 255) {
        record(400);
        throw new ApiError(400, 'Idempotency-Key must be 1 to 255 characters', 'invalid_request_error', 'invalid_idempotency_key', 'Idempotency-Key');
      }
      const candidate = { scope: key?.id ?? OPEN_IDEMPOTENCY_SCOPE, key: idempotencyKey, usageId };
      let body: Uint8Array;
      try {
        body = await rawBody(c);
      } catch (error) {
        record(error instanceof ApiError ? error.status : 499);
        throw error;
      }
      const url = new URL(c.req.url);
      const hash = await requestHash(c.req.method, `${url.pathname}${url.search}`, body);
      const found = await claim(billing.store, candidate, hash, started);
      if (found.state !== 'new') {
        await admit({ tokens: 0, costMicroUsd: 0 });
        if (found.state === 'mismatch') {
          record(422);
          throw refusal(422, 'this Idempotency-Key was used with a different request in the last 24 hours; use a new key for a new request', 'idempotency_key_reused');
        }
        if (found.state === 'in_progress') {
          record(409);
          throw refusal(409, 'a request with this Idempotency-Key is still running; retry when it has ended', 'idempotency_in_progress', { 'Retry-After': '1' });
        }
        replay = true;
        record(found.response.status);
        return new Response(found.response.body as Uint8Array<ArrayBuffer>, {
          status: found.response.status,
          headers: { 'content-type': found.response.contentType, 'Idempotent-Replayed': 'true', 'x-request-id': c.var.requestId, ...rateHeaders },
        });
      }
      slot = candidate;
    }

    await next();
    if (!admitted && key && limits) {
      // Answered before admission (a bad request): it counts against the key's requests, and is never refused now.
      admitted = true;
      const decision = await billing.limiter.take(key.id, limits, 0);
      taken = decision.allowed;
      rateHeaders = decision.headers;
    }
    for (const [name, value] of Object.entries(rateHeaders)) c.res.headers.set(name, value);
    const status = c.res.status;
    const contentType = c.res.headers.get('content-type') ?? 'application/octet-stream';
    if (isStream(c.res)) {
      const claimed = slot;
      let body: ReadableStream<Uint8Array> = c.res.body!;
      let kept: Promise<void> = Promise.resolve();
      if (claimed) body = collectStream(body, (bytes) => (kept = settleClaim(billing.store, claimed, bytes && { status, contentType, body: bytes })));
      c.res = new Response(onStreamEnd(body, async () => {
        record(status);
        await kept;
      }), c.res);
      return;
    }
    record(status);
    if (slot) {
      const bytes = new Uint8Array(await c.res.clone().arrayBuffer());
      await settleClaim(billing.store, slot, { status, contentType, body: bytes });
    }
  };
}
