/** Cost of one request in micro-dollars from the registry's prices: a per-request fee plus per-token prices. */
import type { Price } from './registry.js';

/** Costs are kept to 1e-6 micro-dollars (a pico-dollar): no float noise in sums of many records. */
export const roundMicroUsd = (microUsd: number): number => Math.round(microUsd * 1e6) / 1e6;

export function costMicroUsd(price: Price, inputTokens: number, outputTokens: number): number {
  return roundMicroUsd(price.requestMicroUsd + inputTokens * price.inputTokenMicroUsd + outputTokens * price.outputTokenMicroUsd);
}
