/**
 * x-edge-maas-model-version on generation answers: the version the meter recorded (the one a traffic
 * route chose, or the registry's), where the route did not set it itself (generation's passed-through answers).
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/request-context.js';
import { MODEL_VERSION_HEADER } from './traffic-router.js';

/** The routes whose answers may lack the header: generation's, passed through from an upstream. */
export const GENERATION_PATHS = ['/v1/completions', '/v1/chat/completions'] as const;

export const versionHeader: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const { model, modelVersion } = c.get('meter') ?? {};
  if (!model || !modelVersion || c.res.headers.has(MODEL_VERSION_HEADER)) return;
  const value = `${model}@${modelVersion}`;
  try {
    c.res.headers.set(MODEL_VERSION_HEADER, value);
  } catch {
    // A passed-through upstream answer's headers are immutable: the same answer, with headers of its own.
    const copy = new Response(c.res.body, c.res);
    copy.headers.set(MODEL_VERSION_HEADER, value);
    c.res = copy;
  }
};
