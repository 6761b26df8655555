/**
 * Per-request state shared by middleware and routes, in Hono's typed context variables. Never keyed on the
 * Request object: bodyLimit replaces `c.req.raw` for chunked bodies, and state keyed on it would be lost.
 */
import type { Meter } from '../billing/meter.js';
import type { ApiKeyRecord } from '../billing/types.js';

/** The most a request may use, known once the route has validated it: what admission reserves. */
export interface UsageEstimate {
  tokens: number;
  costMicroUsd: number;
  /** The request field that lowers the estimate, named in a refusal (generation: max_tokens). */
  lowerWith?: string;
}

export interface AppVariables {
  /** The client's `x-request-id` when valid, else a new one: echoed and logged, never a billing key. */
  requestId: string;
  meter: Meter;
  /** The key the request was accepted with; null in open mode or without billing. */
  apiKey: ApiKeyRecord | null;
  /**
   * Rate limits and budget for this request, reserving its maximum use: routes that run a model call it after
   * validating and before the model runs. Throws the 429 or 402 answer.
   */
  admit: (estimate: UsageEstimate) => Promise<void>;
}

export type AppEnv = { Variables: AppVariables };
