/**
 * What a route tells billing about the request it served: model, path, tokens and engine time. Kept beside the
 * request (not in Hono's typed variables) so that routes and the metering middleware share it without coupling.
 * A streamed answer keeps updating it until the stream ends.
 */
export interface Meter {
  model: string | null;
  modelVersion: string | null;
  path: 'edge' | 'gpu' | null;
  inputTokens: number;
  outputTokens: number;
  computeMs: number;
  price: { requestMicroUsd: number; inputTokenMicroUsd: number; outputTokenMicroUsd: number } | null;
}

const meters = new WeakMap<Request, Meter>();

export function meterOf(request: Request): Meter {
  let meter = meters.get(request);
  if (!meter) meters.set(request, (meter = { model: null, modelVersion: null, path: null, inputTokens: 0, outputTokens: 0, computeMs: 0, price: null }));
  return meter;
}
