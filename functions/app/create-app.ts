/**
 * The routing layer: one runtime-agnostic Hono app. Everything runtime-specific (engines, registry, readiness,
 * request ids) is injected, so the Node server, the Worker and Lambda entries build the same app.
 */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { ClassificationEngine } from '../engine/classification/classification-engine.js';
import type { Registry } from '../registry/registry.js';
import { billingMiddleware, type Billing } from '../billing/billing-middleware.js';
import type { AppEnv } from '../http/request-context.js';
import { ApiError, errorResponse } from '../http/errors.js';
import { limitedBody } from '../http/body-limit.js';
import { requestState } from '../http/request-state.js';
import { classifyRoutes } from './routes/classify.js';
import { adminRoutes } from '../billing/routes/admin.js';
import { docsRoutes } from './routes/docs.js';
import { usageRoutes } from '../billing/routes/usage.js';
import { generationRoutes } from './routes/generation.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import { hfInferenceRoutes } from './routes/hf-inference.js';
import { modelRoutes } from './routes/models.js';

export interface AppDeps {
  registry: Registry;
  engines: Map<string, ClassificationEngine>;
  isReady: () => boolean;
  maxBodyBytes?: number;
  newRequestId?: () => string;
  /** Reaches gpu-upstream models; the registry's upstream URLs, already resolved ("embedded" replaced). */
  upstreams?: UpstreamClient;
  /** API keys, rate limits, budgets and metering of /v1 and /models; none when absent (tests of routes alone). */
  billing?: Billing;
  adminToken?: string;
  /** Origins browsers may call the API from (CORS); "*" for any; none by default. */
  corsOrigins?: string[];
}

/** CORS_ORIGINS as the entries read it: comma-separated origins, or "*". */
export const corsOriginsFrom = (raw: string | undefined): string[] => (raw ?? '').split(',').map((o) => o.trim()).filter((o) => o.length > 0);

/** Headers a browser client may send and read, beyond the CORS-safelisted ones. */
const CORS_REQUEST_HEADERS = ['Authorization', 'Content-Type', 'Content-Encoding', 'Idempotency-Key', 'x-api-key', 'x-request-id'];
const CORS_EXPOSED_HEADERS = ['x-request-id', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'Idempotent-Replayed', 'Server-Timing',
  'x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens'];

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use('*', requestState(deps.newRequestId ?? (() => crypto.randomUUID())));
  if (deps.corsOrigins && deps.corsOrigins.length > 0) {
    // Before billing: a preflight carries no key, and answers to refused requests need the headers too.
    const origins = deps.corsOrigins;
    app.use('*', cors({
      origin: origins.includes('*') ? '*' : origins,
      allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      allowHeaders: CORS_REQUEST_HEADERS,
      exposeHeaders: CORS_EXPOSED_HEADERS,
      maxAge: 600,
    }));
  }
  app.use('*', limitedBody(deps.maxBodyBytes ?? 1024 * 1024));

  if (deps.billing) {
    app.use('/v1/*', billingMiddleware(deps.billing));
    app.use('/models/*', billingMiddleware(deps.billing));
    app.route('/v1/usage', usageRoutes(deps.billing));
    app.route('/admin', adminRoutes(deps.billing, deps.adminToken));
  }
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => (deps.isReady() ? c.json({ status: 'ready' }) : c.json({ status: 'loading' }, 503)));
  app.route('/v1/models', modelRoutes(deps.registry));
  app.route('/v1/classify', classifyRoutes(deps.registry, deps.engines));
  app.route('/v1', generationRoutes(deps.registry, deps.upstreams ?? new UpstreamClient()));
  app.route('/models', hfInferenceRoutes(deps.registry, deps.engines));
  app.route('/', docsRoutes(deps.registry));

  app.notFound((c) => {
    const known = ['/healthz', '/readyz', '/v1/models', '/v1/classify', '/v1/completions', '/v1/chat/completions', '/v1/usage', '/models', '/openapi.json', '/docs', '/admin'];
    const path = new URL(c.req.url).pathname;
    if (known.some((p) => path === p || path.startsWith(`${p}/`))) {
      return errorResponse(c, new ApiError(405, `${c.req.method} is not allowed on ${path}`, 'invalid_request_error', 'method_not_allowed'));
    }
    return errorResponse(c, new ApiError(404, `no route ${c.req.method} ${path}`, 'invalid_request_error', 'not_found'));
  });
  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    console.error(`request ${c.var.requestId ?? ''} failed: ${error instanceof Error ? error.name : 'error'}`);
    return errorResponse(c, new ApiError(500, 'internal error; the request id identifies it in the logs', 'server_error', 'internal_error'));
  });
  return app;
}
