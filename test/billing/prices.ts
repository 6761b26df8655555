import type { Price } from '../../functions/registry/registry.js';

/**
 * What a request costs by the README's rule (the registry's per-request fee plus its per-token prices, in
 * micro-dollars to 6 decimals), worked out here rather than with the code under test.
 */
export const priceOf = (price: Price, inputTokens: number, outputTokens: number): number =>
  Math.round((price.requestMicroUsd + inputTokens * price.inputTokenMicroUsd + outputTokens * price.outputTokenMicroUsd) * 1e6) / 1e6;

/** What admission holds for a classification by the README's rule: characters + 2 per text, at most 128 tokens each. */
export const classificationHold = (price: Price, texts: string[], maxTokens = 128): number =>
  priceOf(price, texts.reduce((sum, text) => sum + Math.min(maxTokens, text.length + 2), 0), 0);
