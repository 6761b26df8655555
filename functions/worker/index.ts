/**
 * Cloudflare Worker entry: the same app, with the registry's edge models bundled into the Worker and run by
 * onnxruntime-web inside workerd (models too large to bundle come from R2), billing on D1, and generation
 * through the GPU service at GENERATION_UPSTREAM_URL. Models load on the first request an isolate receives and
 * stay for the next ones. Usage records are written with ctx.waitUntil, after the response.
 */
import type { Hono } from 'hono';
import type { ExecutionContext } from 'hono';
import type { AppEnv } from '../http/request-context.js';
import { corsOriginsFrom, createApp } from '../app/create-app.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import { withUpstreamKey } from '../upstream/upstream-key.js';
import { applyRegistryOverlay } from '../registry/registry-overlay.js';
import { errorJson } from '../http/errors.js';
import { Authenticator } from '../billing/authenticator.js';
import type { Billing } from '../billing/billing-middleware.js';
import { billingPlugin } from '../billing/billing-plugin.js';
import { RateLimiter } from '../billing/rate-limiter.js';
import { SqlBillingStore } from '../billing/sql-billing-store.js';
import { RequestUsageWriter } from '../billing/request-usage-writer.js';
import { loadEdgeEngines } from '../engine/loading/load-edge-engines.js';
import { Registry } from '../registry/registry.js';
import { modelFolders, registryBytes } from './bundled-models.js';
import { d1Database, type D1Database } from './d1-database.js';
import { DurableKeyLimiter, type DurableObjectNamespaceLike } from './key-rate-limiter.js';
import { workerdSessionFactory } from './ort-workerd.js';

export { KeyRateLimiter } from './key-rate-limiter.js';

export interface Env {
  /** Keys and usage (wrangler.toml's d1_databases; migrations/ holds the schema). */
  DB?: D1Database;
  /** "keys" (wrangler.toml's default) or "open". */
  AUTH_MODE?: string;
  /** Set with `wrangler secret put ADMIN_TOKEN`; the admin API is off without it. */
  ADMIN_TOKEN?: string;
  /** One KeyRateLimiter object per API key (exact limits across isolates); in-isolate buckets without it. */
  RATE_LIMITER?: DurableObjectNamespaceLike;
  /** Model files too large to bundle, at `<folder>/<path>` (checked against the registry's sha256 like the rest). */
  MODELS?: R2BucketLike;
  /** The key the GPU service requires (`wrangler secret put GENERATION_UPSTREAM_KEY`), sent to its origin only. */
  GENERATION_UPSTREAM_KEY?: string;
  /** The deployment's generation models as JSON (the AWS stack's REGISTRY_OVERLAY output), replacing the checkout's. */
  REGISTRY_OVERLAY?: string;
  /** Origins browsers may call the API from (comma-separated, or "*"); none when empty. */
  CORS_ORIGINS?: string;
  /** The GPU generation service (the ALB of the AWS stack, or any OpenAI-compatible server) for "embedded" upstreams. */
  GENERATION_UPSTREAM_URL?: string;
}

export interface R2BucketLike {
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

/** A model folder's file: from the Worker bundle, else from the R2 bucket. */
export function modelFileReader(folder: string, bucket: R2BucketLike | undefined) {
  return async (path: string): Promise<Uint8Array | null> => {
    const bundled = modelFolders[folder]?.[path];
    if (bundled) return new Uint8Array(bundled);
    const object = await bucket?.get(`${folder}/${path}`);
    return object ? new Uint8Array(await object.arrayBuffer()) : null;
  };
}


let app: Promise<Hono<AppEnv>> | null = null;

function workerBilling(env: Env): Billing | undefined {
  if (!env.DB) return undefined;
  const store = new SqlBillingStore(d1Database(env.DB));
  const writer = new RequestUsageWriter(store, {
    attempts: 3,
    backoffMs: 200,
    onError: (error) => console.error(`usage write failed: ${error instanceof Error ? error.message : String(error)}`),
  });
  const limiter = env.RATE_LIMITER ? new DurableKeyLimiter(env.RATE_LIMITER) : new RateLimiter();
  return { mode: env.AUTH_MODE === 'open' ? 'open' : 'keys', store, writer, authenticator: new Authenticator(store), limiter };
}

async function buildApp(env: Env): Promise<Hono<AppEnv>> {
  let registry = Registry.parse(JSON.parse(new TextDecoder().decode(registryBytes)));
  if (env.GENERATION_UPSTREAM_URL) registry = registry.withEmbeddedUpstream(env.GENERATION_UPSTREAM_URL);
  registry = applyRegistryOverlay(registry, env.REGISTRY_OVERLAY || undefined);
  const keyed = env.GENERATION_UPSTREAM_URL && env.GENERATION_UPSTREAM_KEY
    ? withUpstreamKey((input, init) => fetch(input, init), env.GENERATION_UPSTREAM_URL, env.GENERATION_UPSTREAM_KEY)
    : undefined;
  const engines = (await loadEdgeEngines(registry, {
    readerFor: (model) => modelFileReader(model.folder!, env.MODELS),
    createSession: workerdSessionFactory(),
    // One isolate serves concurrent requests, but workerd ties work to the request that started it.
    batchAcrossRequests: false,
  }))['text-classification'];
  const billing = workerBilling(env);
  return createApp({
    registry, engines, isReady: () => true,
    plugins: billing ? [billingPlugin({ billing, adminToken: env.ADMIN_TOKEN || undefined })] : [],
    corsOrigins: corsOriginsFrom(env.CORS_ORIGINS),
    upstreams: new UpstreamClient({}, { fetch: keyed }),
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
