/**
 * What a route tells billing about the request it served: model, path, tokens and engine time. It lives in the
 * request's context variables (`c.get('meter')`); a streamed answer keeps updating it until the stream ends.
 */
export interface Meter {
  model: string | null;
  modelVersion: string | null;
  path: 'edge' | 'gpu' | null;
  inputTokens: number;
  outputTokens: number;
  computeMs: number;
  price: { requestMicroUsd: number; inputTokenMicroUsd: number; outputTokenMicroUsd: number; cacheRequestMicroUsd?: number } | null;
  /** The answer came from the classification cache: billed at the price's cache rate, not its token prices. */
  cacheHit: boolean;
}

export const newMeter = (): Meter => ({ model: null, modelVersion: null, path: null, inputTokens: 0, outputTokens: 0, computeMs: 0, price: null, cacheHit: false });
