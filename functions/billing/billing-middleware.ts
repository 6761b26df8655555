/**
 * Billing's HTTP edge: authentication, rate limits, budgets, idempotency and metering around every API request.
 * After a key is accepted, each request yields exactly one usage record with an id of its own, refused (429, 402)
 * or not, except a body over the size limit (413: never metered, see record); a streamed answer is metered when its stream ends or is cancelled, with what it produced.
 * Where the limiter records at admission (the edge's key objects) and the route knows the record then (a
 * classification: UsageEstimate.served), the record goes with the take, and the request's end sends one only if it
 * ended otherwise: that record cancels the one taken (usage-rollup.ts `cancelled`). Its engine time is not kept then. Routes that run
 * a model call `c.get('admit')` with the request's maximum use once they have validated it (admission.ts). Billing's
 * refusals are BillingErrors, answered here through billing-http-errors.ts. Bodies are never recorded.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv, UsageEstimate } from '../http/request-context.js';
import { ApiError } from '../http/errors.js';
import { rawBody } from '../http/json-body.js';
import { cacheHitCostMicroUsd, costMicroUsd } from '../registry/pricing.js';
import { KeyAdmission } from './admission.js';
import { presentedKey } from './api-keys.js';
import type { Authenticator } from './authenticator.js';
import { BillingError } from './billing-errors.js';
import { billingErrorToApi, toApiError } from './billing-http-errors.js';
import { checkIdempotencyKey, claim, collectStream, heldKeyError, keptContentType, OPEN_IDEMPOTENCY_SCOPE, replayedHeaders, requestHash, settleClaim } from './idempotency.js';
import type { KeyLimiter } from './rate-limiter.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { onStreamEnd } from './stream-end.js';
import type { ApiKeyRecord, BillingStore, IdempotencySlot, UsageRecord } from './types.js';
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
  /**
   * Runs once the key is known and before an Idempotency-Key's kept answer is looked up (privacy's policy), so that
   * its refusals hold for replays too: `variant` is hashed with the request (a replay under another policy is another
   * request), `headers` go on a replayed answer.
   */
  screen?: (c: Context<AppEnv>) => Promise<{ variant: string; headers: Record<string, string> }>;
}

/**
 * The Worker's ExecutionContext.waitUntil for this request; none in Node and Lambda, where Hono's getter throws. The
 * Error it throws there captured a stack trace on every request, 9 µs of a classification's router CPU in Node
 * (bench:billing): with no frames to capture, the throw costs a fraction of that.
 */
function requestWaitUntil(c: Context): ((work: Promise<unknown>) => void) | undefined {
  const frames = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    return undefined;
  } finally {
    Error.stackTraceLimit = frames;
  }
}

const isStream = (response: Response) => response.body !== null && (response.headers.get('content-type') ?? '').startsWith('text/event-stream');

const NOTHING: UsageEstimate = { tokens: 0, costMicroUsd: 0 };

/** What a usage record says of the work it meters. */
type Metered = Pick<UsageRecord, 'model' | 'modelVersion' | 'path' | 'inputTokens' | 'outputTokens' | 'computeMs'>;

/** Two records of one request that bill the same (engine time aside, which is never billed). */
const sameBilling = (a: UsageRecord, b: UsageRecord) =>
  a.model === b.model && a.modelVersion === b.modelVersion && a.path === b.path && a.route === b.route && a.status === b.status
  && a.inputTokens === b.inputTokens && a.outputTokens === b.outputTokens && a.costMicroUsd === b.costMicroUsd && a.idempotentReplay === b.idempotentReplay;

export function billingMiddleware(billing: Billing): MiddlewareHandler<AppEnv> {
  const now = billing.now ?? (() => Date.now());
  const newId = billing.newId ?? (() => crypto.randomUUID());
  return async (c, next) => {
    const started = now();
    const usageId = newId();
    const waitUntil = requestWaitUntil(c);
    let key: ApiKeyRecord | null = null;
    if (billing.mode === 'keys') {
      key = await billing.authenticator.authenticate(presentedKey(c.req.raw.headers)).catch((error: unknown) => {
        throw toApiError(error);
      });
      c.set('apiKey', key);
    }
    const admission = key ? new KeyAdmission({ limiter: billing.limiter, store: billing.store, key, usageId, at: started }) : null;
    const rateHeaders = () => (admission?.decision ? rateLimitHeaders(admission.decision) : {});
    let admitted = false;
    let replay = false;
    let recorded = false;

    const usageRecord = (status: number, metered: Metered, cost: number): UsageRecord => ({
      id: usageId, requestId: c.get('requestId'), keyId: key?.id ?? null, tenantId: key?.tenantId ?? null,
      model: metered.model, modelVersion: metered.modelVersion, path: metered.path, route: `${c.req.method} ${new URL(c.req.url).pathname}`,
      inputTokens: metered.inputTokens, outputTokens: metered.outputTokens, computeMs: Math.round(metered.computeMs * 1000) / 1000,
      status, costMicroUsd: cost, idempotentReplay: replay, createdAt: started, heldMicroUsd: admission?.heldMicroUsd ?? 0,
    });

    /** The request's record as it ended with `status`, from what its route metered. */
    const finalRecord = (status: number): UsageRecord => {
      const meter = c.get('meter');
      const billable = status < 400 && !replay && meter.price !== null;
      const cost = !billable ? 0 : meter.cacheHit ? cacheHitCostMicroUsd(meter.price!) : costMicroUsd(meter.price!, meter.inputTokens, meter.outputTokens);
      // A request billing refused (429, 402) before its model ran names the model its body asked for (no version:
      // none was served), so that /v1/usage by model shows it there rather than under "(none)".
      const asked = status === 429 || status === 402 ? c.get('jsonBody')?.model : undefined;
      const model = meter.model ?? (typeof asked === 'string' && asked !== '' ? asked.slice(0, 200) : null);
      return usageRecord(status, { ...meter, model }, cost);
    };

    const record = (status: number) => {
      if (recorded) return;
      recorded = true;
      // A body over the size limit (413) is never metered, wherever its size is found: the raw size is checked
      // before the key is (the body limit runs first, so there is no key to meter it to), and the decoded size and a
      // chunked body found too large here are answered the same way. Every other request of an accepted key yields
      // one record, refusals before the model ran (400, 402, 429) included, at cost 0.
      if (status === 413) return;
      const usage = finalRecord(status);
      const used = usage.inputTokens + usage.outputTokens;
      // Counted with its admission (or its refusal) as it ended, its tokens as reserved: nothing more to send. Only
      // the engine time is not in that record (a statistic, never billed): sending it would be a second call.
      const early = admission?.recorded ?? null;
      const settlement = admission?.settlement(used) ?? null;
      if (early && sameBilling(early, usage) && (settlement === null || settlement.reserved === used)) return;
      // The edge's sink hands the record and the request's token settlement to the key's object in one call; a
      // request recorded at admission that ended otherwise (failed, refused by a later check) cancels that record.
      const written = billing.writer.settlesLimits ? billing.writer.record(usage, admission?.settlement(used) ?? null, early ?? undefined) : billing.writer.record(usage);
      const settled = billing.writer.settlesLimits ? undefined : admission?.settle(used);
      if (settled && waitUntil) waitUntil(settled);
      if (waitUntil) waitUntil(written ?? billing.writer.flush());
    };

    /** A refusal is metered with the status it is answered with; other failures go on as they are. */
    const refuse: (error: unknown) => never = (error) => {
      if (!(error instanceof BillingError)) throw error;
      const answer = billingErrorToApi(error);
      record(answer.status);
      throw answer;
    };

    const admit = async (estimate: UsageEstimate) => {
      if (admitted) return;
      admitted = true;
      // Where the route knows the record before its model runs (a classification), it may be counted with the take.
      const atAdmission = billing.writer.settlesLimits === true;
      const served = estimate.served && atAdmission ? usageRecord(200, { ...estimate.served, computeMs: 0 }, estimate.costMicroUsd) : undefined;
      // A rate-limited request's record is known too: the limiter counts it with its refusal.
      await admission?.admit(estimate, served, atAdmission ? finalRecord(429) : undefined).catch(refuse);
    };
    c.set('admit', admit);

    // Requests that run no model (listings, usage) are admitted at once; the others once their route knows their size.
    if (c.req.method !== 'POST') await admit(NOTHING);

    let slot: IdempotencySlot | null = null;
    const idempotencyKey = c.req.header('idempotency-key');
    if (idempotencyKey !== undefined) {
      try {
        checkIdempotencyKey(idempotencyKey);
      } catch (error) {
        refuse(error);
      }
      let screened: { variant: string; headers: Record<string, string> } = { variant: '', headers: {} };
      try {
        if (billing.screen) screened = await billing.screen(c);
      } catch (error) {
        record(error instanceof ApiError ? error.status : 500);
        throw error;
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
      const found = await claim(billing.store, { ...candidate, requestHash: await requestHash(c.req.method, `${url.pathname}${url.search}`, body, screened.variant), at: started });
      if (found.state !== 'new') {
        await admit(NOTHING);
        if (found.state !== 'replay') refuse(heldKeyError(found.state));
        replay = true;
        record(found.response.status);
        const kept = replayedHeaders(found.response.contentType);
        return new Response(found.response.body as Uint8Array<ArrayBuffer>, {
          status: found.response.status,
          headers: { ...kept.headers, 'content-type': kept.contentType, 'Idempotent-Replayed': 'true', 'x-request-id': c.get('requestId'), ...rateHeaders(), ...screened.headers },
        });
      }
      slot = candidate;
    }

    await next();
    if (!admitted && admission && c.res.status !== 413) {
      admitted = true;
      // Its record is known now (the route answered without admitting it, a 400): counted with the take.
      await admission.count(billing.writer.settlesLimits ? finalRecord(c.res.status) : undefined);
    }
    for (const [name, value] of Object.entries(rateHeaders())) c.res.headers.set(name, value);
    const status = c.res.status;
    const contentType = keptContentType(c.res.headers.get('content-type') ?? 'application/octet-stream', c.res.headers);
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
