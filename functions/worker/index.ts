/**
 * Cloudflare Worker entry: the same app, with the registry's edge models bundled into the Worker and run by
 * onnxruntime-web inside workerd (models too large to bundle come from R2), billing on D1, fine-tuning on D1 and
 * R2 with its jobs run by the FineTuningQueue object, and generation through the GPU service at
 * GENERATION_UPSTREAM_URL. Models load on the first request an isolate receives and stay for the next ones. Usage
 * records are written with ctx.waitUntil, after the response.
 */
import type { Hono } from 'hono';
import type { ExecutionContext } from 'hono';
import type { AppEnv } from '../http/request-context.js';
import { corsOriginsFrom, createApp } from '../app/create-app.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import { withUpstreamKey } from '../upstream/upstream-key.js';
import { errorJson } from '../http/errors.js';
import { billingPlugin } from '../billing/billing-plugin.js';
import { consolePlugin } from '../console/console-plugin.js';
import { edgeEngines, workerRegistry } from './edge-models.js';
import { workerBilling } from './worker-billing.js';
import type { Env } from './worker-env.js';
import { workerTuning } from './worker-tuning.js';
import { workerClassificationCache } from './cache-api-classification-cache.js';
import { d1Database } from './d1-database.js';
import { withPrivacy } from '../privacy/compose.js';
import { PolicyStore } from '../privacy/policy-store.js';
import { servedRegions } from '../privacy/regions.js';
import { COLO_REGIONS, regionOfRequest } from './colo-regions.js';
import { withTraffic } from '../traffic/traffic-plugin.js';
import { RouteStore } from '../traffic/route-store.js';
import { workerObservability } from './worker-observability.js';

export { KeyRateLimiter } from './key-rate-limiter.js';
export { FineTuningQueue } from './fine-tuning-queue.js';

let app: Promise<Hono<AppEnv>> | null = null;

async function buildApp(env: Env): Promise<Hono<AppEnv>> {
  const registry = workerRegistry(env);
  const keyed = env.GENERATION_UPSTREAM_URL && env.GENERATION_UPSTREAM_KEY
    ? withUpstreamKey((input, init) => fetch(input, init), env.GENERATION_UPSTREAM_URL, env.GENERATION_UPSTREAM_KEY)
    : undefined;
  const engines = await edgeEngines(env, registry);
  // This isolate's counts behind /metrics, and a data point per request with an Analytics Engine dataset bound.
  const observed = workerObservability(env, registry, () => upstreams);
  const upstreams: UpstreamClient = new UpstreamClient({}, observed ? observed.upstreamOptions(keyed) : { fetch: keyed });
  const unguarded = workerBilling(env);
  // Privacy policies on D1 (migrations/0007, 0009), read through a 5 s cache per isolate; a pinned key's in-process
  // work only in a data center of its region (colo-regions.ts).
  const privacy = env.DB
    ? withPrivacy(unguarded, { store: new PolicyStore(d1Database(env.DB)), regions: servedRegions(registry, ...COLO_REGIONS), locate: regionOfRequest }, env.ADMIN_TOKEN || undefined)
    : null;
  const billing = privacy ? privacy.billing : unguarded;
  const tuning = workerTuning(env, registry, engines['feature-extraction']);
  // Traffic routes on D1 (migrations/0008), read through a 5 s cache per isolate.
  const traffic = env.DB ? withTraffic({ store: new RouteStore(d1Database(env.DB)), onShadowOutcome: observed ? (o) => observed.metrics.shadowOutcome(o) : undefined }, registry, engines['text-classification'], env.ADMIN_TOKEN || undefined) : null;
  return createApp({
    registry, engines: observed ? observed.engines(engines['text-classification']) : engines['text-classification'], isReady: () => true,
    plugins: [...(observed ? [observed.plugin] : []), ...(billing ? [billingPlugin({ billing, adminToken: env.ADMIN_TOKEN || undefined })] : []), ...(privacy ? [privacy.plugin] : []), ...(tuning ? [tuning.plugin] : []), ...(traffic ? [traffic.plugin] : []), consolePlugin({ auth: billing?.mode ?? 'off' })],
    tenantModels: tuning?.tenantModels,
    traffic: traffic?.router,
    classificationCache: workerClassificationCache(env) ?? undefined,
    corsOrigins: corsOriginsFrom(env.CORS_ORIGINS),
    upstreams,
  });
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    app ??= buildApp(env).catch((error: unknown) => {
      app = null; // the next request tries again
      throw error;
    });
    try {
      return await (await app).fetch(request, env, ctx);
    } catch (error) {
      const message = `the models failed to load: ${error instanceof Error ? error.message : String(error)}`;
      console.error(message);
      return errorJson(503, message, 'server_error', 'models_unavailable');
    }
  },
};
