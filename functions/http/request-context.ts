/**
 * Per-request state shared by middleware and routes, in Hono's typed context variables. Never keyed on the
 * Request object: bodyLimit replaces `c.req.raw` for chunked bodies, and state keyed on it would be lost.
 */
import type { Meter } from './meter.js';

/** The most a request may use, known once the route has validated it: what admission reserves. */
export interface UsageEstimate {
  tokens: number;
  costMicroUsd: number;
  /** The request field that lowers the estimate, named in a refusal (generation: max_tokens). */
  lowerWith?: string;
  /**
   * What the request's usage record says if it is served as admitted, where that is exact before the model runs
   * (a classification with its tokens counted): billing may then record it with the admission, in one call.
   */
  served?: ServedUsage;
}

/** The metered part of a usage record that a route knows at admission (its cost is the estimate's). */
export interface ServedUsage {
  model: string;
  modelVersion: string;
  path: 'edge' | 'gpu';
  inputTokens: number;
  outputTokens: number;
  cacheHit: boolean;
}

/**
 * The tenant that requests made without a key (open mode) act as, for what they own (fine-tuning's files, jobs and
 * models). Billing refuses it as a tenant id, so no key can ever read what keyless callers stored, nor they a key's.
 */
export const OPEN_TENANT = 'open';

/** What routes may know of the API key a request came with; billing sets its whole key record here. */
export interface CallerKey {
  readonly id: string;
  readonly tenantId: string;
}

export interface AppVariables {
  /** The client's `x-request-id` when valid, else a new one: echoed and logged, never a billing key. */
  requestId: string;
  meter: Meter;
  /** The key the request was accepted with (its id and tenant); null in open mode or without billing. */
  apiKey: CallerKey | null;
  /**
   * Rate limits and budget for this request, reserving its maximum use: routes that run a model call it after
   * validating and before the model runs. Throws the 429 or 402 answer.
   */
  admit: (estimate: UsageEstimate) => Promise<void>;
  /**
   * The JSON body as json-body.ts read it, before the route's schema dropped the fields it does not name: what a
   * route forwards upstream. Set on routes that declare a JSON body, once it is read.
   */
  jsonBody?: Record<string, unknown>;
  /**
   * The privacy policy in force (functions/privacy/ sets it on /v1/*): routes that send text out of the process
   * (generation upstreams) or store it (training files) honour it, and count what they found per kind. None: no
   * policy (nothing redacted, answers may be kept). `region`: the jurisdiction the request is pinned to, if any.
   */
  privacy?: { pii: 'off' | 'mask' | 'block'; retention: 'standard' | 'none'; counts: Partial<Record<string, number>>; scanned?: boolean; region?: string };
}

export type AppEnv = { Variables: AppVariables };
