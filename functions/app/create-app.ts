/**
 * The routing layer: one runtime-agnostic Hono app. Everything runtime-specific (engines, registry, readiness,
 * request ids) is injected, so the Node server, the Worker and Lambda entries build the same app; what the core
 * does not know of (billing) comes in as plugins. Every route is declared once (http/route-declaration.ts): the
 * OpenAPI document, request validation and the 404/405 answers all come from those declarations.
 */
import type { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { TenantModels } from '../engine/tasks/tenant-models.js';
import type { TextClassifier } from '../engine/tasks/text-classifier.js';
import type { Registry } from '../registry/registry.js';
import type { AppPlugin } from '../http/app-plugin.js';
import type { ClassificationCache } from './classification-cache.js';
import type { AppEnv } from '../http/request-context.js';
import { ApiError, errorResponse } from '../http/errors.js';
import { limitedBodies } from '../http/body-limit.js';
import { requestState } from '../http/request-state.js';
import { routeGroup } from '../http/route-declaration.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import { API_PATHS } from '../protocol/generation-call.js';
import { callerTrace } from '../upstream/caller-trace.js';
import { classifyRoutes } from './routes/classify.js';
import { docsRoutes } from './routes/docs.js';
import { generationRoutes } from './routes/generation.js';
import { healthRoutes } from './routes/health.js';
import { hfInferenceRoutes } from './routes/hf-inference.js';
import { modelRoutes } from './routes/models.js';
import { methodsOfRouteTable, noRoute } from './unmatched.js';
import type { EdgeEngine } from './schemas.js';
import type { TrafficRouter } from '../traffic/traffic-router.js';

export interface AppDeps {
  registry: Registry;
  /** The classifier of each edge model, by id@version: the local engines, or any other TextClassifier. */
  engines: Map<string, TextClassifier>;
  isReady: () => boolean;
  maxBodyBytes?: number;
  newRequestId?: () => string;
  /** Reaches gpu-upstream models; the registry's upstream URLs, already resolved ("embedded" replaced). */
  upstreams?: UpstreamClient;
  /** Origins browsers may call the API from (CORS); "*" for any; none by default. */
  corsOrigins?: string[];
  /** The callers' fine-tuned classifiers (functions/tuning/ implements them): served, listed and deleted per tenant. */
  tenantModels?: TenantModels;
  /** Classification answers by a hash of what decides them (classification-cache.ts: node/ and worker/ implement it); none: every request runs. */
  classificationCache?: ClassificationCache;
  /** What runs the edge models here, as GET /v1/models names it (ModelCard.engine); default onnxruntime-web. */
  edgeEngine?: EdgeEngine;
  /** Layers above the core, e.g. billing-plugin.ts (API keys, limits, metering, /v1/usage, /admin); none: routes alone. */
  plugins?: AppPlugin[];
  /** Aliases split between versions, sticky per key, with shadow runs (functions/traffic/); none: the registry's aliases. */
  traffic?: TrafficRouter;
}

/** CORS_ORIGINS as the entries read it: comma-separated origins, or "*". */
export const corsOriginsFrom = (raw: string | undefined): string[] => (raw ?? '').split(',').map((o) => o.trim()).filter((o) => o.length > 0);

/** Headers a browser client may send and read, beyond the CORS-safelisted ones. */
const CORS_REQUEST_HEADERS = ['Authorization', 'Content-Type', 'Content-Encoding', 'Idempotency-Key', 'x-api-key', 'x-request-id', 'x-use-cache', 'x-edge-maas-privacy', 'x-edge-maas-route-key'];
const CORS_EXPOSED_HEADERS = ['x-request-id', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'Idempotent-Replayed', 'Server-Timing', 'X-Cache',
  'x-edge-maas-privacy', 'x-edge-maas-pii', 'x-edge-maas-model-version',
  'x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens'];

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = routeGroup();
  const plugins = deps.plugins ?? [];
  const upstreams = deps.upstreams ?? new UpstreamClient();

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
  const pluginMiddleware = plugins.flatMap((plugin) => plugin.middleware ?? []);
  for (const { path, handler } of pluginMiddleware.filter((m) => m.beforeBodyLimit)) app.use(path, handler);
  app.use('*', limitedBodies(deps.maxBodyBytes ?? 1024 * 1024, plugins.flatMap((plugin) => plugin.bodyLimits ?? [])));
  // After the body limit, which may replace the request (and its signal, which keys the trace): generation only.
  for (const path of Object.values(API_PATHS)) app.use(`/v1${path}`, callerTrace());
  for (const { path, handler } of pluginMiddleware.filter((m) => !m.beforeBodyLimit)) app.use(path, handler);
  app.use('*', methodsOfRouteTable(app));

  const groups = [
    ...plugins.flatMap((plugin) => plugin.routes ?? []),
    healthRoutes(deps),
    modelRoutes(deps),
    classifyRoutes(deps),
    generationRoutes({
      registry: deps.registry, generatorFor: (model) => upstreams.generator(model.upstreams),
      routeModel: deps.traffic && (async (c, name) => (await deps.traffic!.route(c, name))?.model ?? null),
    }),
    hfInferenceRoutes(deps),
    docsRoutes({ routeTable: app, middleware: plugins.flatMap((plugin) => plugin.middleware ?? []) }),
  ];
  for (const group of groups) app.route('/', group);

  app.notFound(noRoute);
  app.onError((thrown, c) => {
    const error = plugins.reduce<unknown>((answer, plugin) => plugin.toApiError?.(answer) ?? answer, thrown);
    if (error instanceof ApiError) return errorResponse(c, error);
    console.error(`request ${c.get('requestId') ?? ''} failed: ${thrown instanceof Error ? thrown.name : 'error'}`);
    return errorResponse(c, new ApiError(500, 'internal error; the request id identifies it in the logs', 'server_error', 'internal_error'));
  });
  return app;
}
