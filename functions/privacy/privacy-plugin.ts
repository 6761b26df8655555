/**
 * The privacy policy as a plugin of the app (after billing, which says whose key a request carries): on /v1/* and
 * /models/* (the Hugging Face route) it settles the policy in force (the key's, else its tenant's, else the server's
 * default; the x-edge-maas-privacy header only stricter) into c.var.privacy for the routes that send text out
 * (generation) or store it (training files), answers with `x-edge-maas-privacy` (the policy applied) and
 * `x-edge-maas-pii` (what was found, counts per kind only), and under retention=none refuses uploads and fine-tuning
 * jobs and keeps no idempotent replay. A request pinned to a region (regions.ts) is sent upstream only in it (the
 * generation routes), and any other POST is refused with 503 `region_unavailable` unless `locate` says this process
 * runs in that region. The admin routes set the policies.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppPlugin } from '../http/app-plugin.js';
import { ApiError } from '../http/errors.js';
import type { AppEnv } from '../http/request-context.js';
import { privacyAdminRoutes, type PolicySubjects } from './admin-routes.js';
import { formatCounts } from './pii-detect.js';
import { describePolicy, OPEN_POLICY, parsePrivacyHeader, PRIVACY_HEADER, stricter, type PrivacyPolicy } from './policy.js';
import { inForce, type PolicyStore } from './policy-store.js';
import { notServedHere, type LocateRequest } from './regions.js';
import type { RetentionGuard } from './retention.js';
import { PII_COUNT_HEADER } from './screen.js';

export interface PrivacyPluginOptions {
  store: PolicyStore;
  /** Marks requests whose idempotent answer must not be kept (the billing store handed to billing is wrapped by it). */
  retention?: RetentionGuard;
  adminToken?: string;
  subjects?: PolicySubjects;
  /** The policy of requests without a key, and of keys and tenants with none of their own (default: pii off, retention standard). */
  defaults?: PrivacyPolicy;
  /** The regions a key may be pinned to (regions.ts servedRegions); any region when not given. */
  regions?: readonly string[];
  /** Where a request is processed; without it, in-process work of a pinned request is refused everywhere. */
  locate?: LocateRequest;
}

/** POSTs that store what the caller sent beyond the usage record. */
const STORING = [/^\/v1\/files$/, /^\/v1\/fine_tuning\/jobs$/];
/** POSTs whose text is sent to an upstream, chosen by the pinned region; every other POST is processed here. */
const FORWARDED = ['/v1/completions', '/v1/chat/completions'];

const retentionForbids = (path: string) =>
  new ApiError(403, `this request's privacy policy is retention=none: ${path} stores what you send, which the policy forbids`,
    'invalid_request_error', 'retention_forbids_storage');

function setHeader(res: Response, name: string, value: string): Response {
  try {
    res.headers.set(name, value);
    return res;
  } catch {
    // A passed-through upstream answer's headers are immutable: the same answer, with headers of its own.
    const copy = new Response(res.body, res);
    copy.headers.set(name, value);
    return copy;
  }
}

export function privacyMiddleware({ store, retention, defaults = OPEN_POLICY, locate }: PrivacyPluginOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.var.apiKey;
    const header = c.req.header(PRIVACY_HEADER);
    const asked = header === undefined ? {} : parsePrivacyHeader(header);
    const stored = key ? await store.forKey(key.id, key.tenantId) : { key: null, tenant: null };
    const policy = stricter(inForce(stored, defaults).policy, asked);
    const state = { ...policy, counts: {} };
    c.set('privacy', state);
    if (policy.region && c.req.method === 'POST' && !FORWARDED.includes(c.req.path)) {
      const here = locate?.(c.req.raw);
      if (here !== policy.region) throw notServedHere(policy.region, here);
    }
    if (policy.retention === 'none' && c.req.method === 'POST') {
      if (STORING.some((path) => path.test(c.req.path))) throw retentionForbids(c.req.path);
      const idempotencyKey = c.req.header('idempotency-key');
      if (idempotencyKey !== undefined) retention?.forbidReplay(key?.id ?? null, idempotencyKey);
    }
    await next();
    let res = setHeader(c.res, PRIVACY_HEADER, describePolicy(policy));
    if (policy.pii !== 'off') res = setHeader(res, PII_COUNT_HEADER, formatCounts(state.counts));
    if (res !== c.res) c.res = res;
  };
}

export function privacyPlugin(options: PrivacyPluginOptions): AppPlugin {
  return {
    // /models/*: the Hugging Face route classifies in-process too.
    middleware: [{ path: '/v1/*', handler: privacyMiddleware(options) }, { path: '/models/*', handler: privacyMiddleware(options) }],
    routes: [privacyAdminRoutes(options)],
  };
}
