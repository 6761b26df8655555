/** Cost of one request in micro-dollars from the registry's prices: a per-request fee plus per-token prices. */
import type { Price } from '../engine/registry/registry.js';

export function costMicroUsd(price: Price, inputTokens: number, outputTokens: number): number {
  const cost = price.requestMicroUsd + inputTokens * price.inputTokenMicroUsd + outputTokens * price.outputTokenMicroUsd;
  return Math.round(cost * 1e6) / 1e6; // no float noise in sums of many records
}
