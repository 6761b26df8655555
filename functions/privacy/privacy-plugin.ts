/**
 * The privacy policy as a plugin of the app (after billing, which says whose key a request carries): on /v1/* it
 * settles the policy in force (the key's, else its tenant's, else the server's default; the x-edge-maas-privacy
 * header only stricter) into c.var.privacy for the routes that send text out (generation) or store it (training
 * files), answers with `x-edge-maas-privacy` (the policy applied) and `x-edge-maas-pii` (what was found, counts per
 * kind only), and under retention=none refuses uploads and fine-tuning jobs and keeps no idempotent replay.
 * The admin routes set the policies.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppPlugin } from '../http/app-plugin.js';
import { ApiError } from '../http/errors.js';
import type { AppEnv } from '../http/request-context.js';
import { privacyAdminRoutes, type PolicySubjects } from './admin-routes.js';
import { formatCounts } from './pii-detect.js';
import { describePolicy, OPEN_POLICY, parsePrivacyHeader, PRIVACY_HEADER, stricter, type PrivacyPolicy } from './policy.js';
import type { PolicyStore } from './policy-store.js';
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
}

/** POSTs that store what the caller sent beyond the usage record. */
const STORING = [/^\/v1\/files$/, /^\/v1\/fine_tuning\/jobs$/];

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

export function privacyMiddleware({ store, retention, defaults = OPEN_POLICY }: PrivacyPluginOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.var.apiKey;
    const header = c.req.header(PRIVACY_HEADER);
    const asked = header === undefined ? {} : parsePrivacyHeader(header);
    const stored = key ? await store.forKey(key.id, key.tenantId) : { key: null, tenant: null };
    const policy = stricter(stored.key ?? stored.tenant ?? defaults, asked);
    const state = { ...policy, counts: {} };
    c.set('privacy', state);
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
    middleware: [{ path: '/v1/*', handler: privacyMiddleware(options) }],
    routes: [privacyAdminRoutes(options)],
  };
}
