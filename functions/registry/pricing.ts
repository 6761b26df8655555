/** Cost of one request in micro-dollars from the registry's prices: a per-request fee plus per-token prices. */
import type { Price } from './registry.js';

/** Costs are kept to 1e-6 micro-dollars (a pico-dollar): no float noise in sums of many records. */
export const roundMicroUsd = (microUsd: number): number => Math.round(microUsd * 1e6) / 1e6;

export function costMicroUsd(price: Price, inputTokens: number, outputTokens: number): number {
  return roundMicroUsd(price.requestMicroUsd + inputTokens * price.inputTokenMicroUsd + outputTokens * price.outputTokenMicroUsd);
}

/**
 * A classification answered from the exact-match cache: the registry's cache_request_micro_usd, flat (no model ran,
 * so no token charges); where the registry gives none, the model's per-request fee, so a hit never costs more than the
 * same request run would, and still pays for what every request costs (authentication, metering, the lookup).
 */
export function cacheHitCostMicroUsd(price: Pick<Price, 'requestMicroUsd' | 'cacheRequestMicroUsd'>): number {
  return roundMicroUsd(price.cacheRequestMicroUsd ?? price.requestMicroUsd);
}
