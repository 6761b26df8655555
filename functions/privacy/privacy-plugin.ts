/**
 * The privacy policy as a plugin of the app (after billing, which says whose key a request carries): on /v1/* and
 * /models/* (the Hugging Face route) it settles the policy in force (the key's, else its tenant's, else the server's
 * default; the x-edge-maas-privacy header only stricter) into c.get('privacy') for the routes that send text out
 * (generation) or store it (training files), answers with `x-edge-maas-privacy` (the policy applied) and
 * `x-edge-maas-pii` (what was found, counts per kind only), and under retention=none refuses uploads and fine-tuning
 * jobs and keeps no idempotent replay. A request pinned to a region (regions.ts) is sent upstream only in it (the
 * generation routes); any other POST, and every request that reads or changes stored data (files, fine-tuning jobs,
 * model exports and deletes), is refused with 403 `region_not_here` unless `locate` says this process runs in that
 * region. A POST is refused once its route has validated it and admission has counted it (c.get('admit')), so that a
 * bad body is a 400 and a client retrying the refusal runs into its key's rate limit. Idempotent requests are
 * screened before billing looks up a kept answer (privacyScreen), so a replay is refused or marked as the request
 * would be. The admin routes set the policies.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppPlugin } from '../http/app-plugin.js';
import { ApiError } from '../http/errors.js';
import type { AppEnv } from '../http/request-context.js';
import { privacyAdminRoutes, type PolicySubjects } from './admin-routes.js';
import { formatCounts } from './pii-detect.js';
import { describePolicy, OPEN_POLICY, parsePrivacyHeader, PRIVACY_HEADER, stricter, type PrivacyPolicy } from './policy.js';
import { inForce, type PolicyStore, type StoredPolicies } from './policy-store.js';
import { notServedHere, regionNotServed, type LocateRequest, type PinnedBy } from './regions.js';
import type { RetentionGuard } from './retention.js';
import { privacyParameters, privacyResponseHeaders, privacyResponses } from './privacy-responses.js';
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
/** Other requests that read or change what a tenant stored (files, jobs, fine-tuned models): done where the data is. */
const STORED_DATA = [/^\/v1\/files(\/|$)/, /^\/v1\/fine_tuning(\/|$)/, /^\/v1\/models\/.+\/export$/];
const touchesStoredData = (method: string, path: string) =>
  STORED_DATA.some((pattern) => pattern.test(path)) || (method === 'DELETE' && path.startsWith('/v1/models/'));
/** Work this process does itself for the request, which a pinned request may have only where the process runs in its region. */
const inProcess = (method: string, path: string) => (method === 'POST' ? !FORWARDED.includes(path) : touchesStoredData(method, path));

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

interface Settled {
  policy: PrivacyPolicy;
  pinnedBy: PinnedBy;
  /** describePolicy(policy), the x-edge-maas-privacy header's value. */
  described: string;
}

const settledOf = (own: PrivacyPolicy, asked: Partial<PrivacyPolicy>): Settled => {
  const policy = stricter(own, asked);
  return { policy, pinnedBy: own.region ? 'key' : 'header', described: describePolicy(policy) };
};

/**
 * Settled once per request (by the screen before a replay lookup, else by the middleware), kept on the request's
 * privacy state: a WeakMap keyed by each request's context cost more than the rest of the settling (bench:policies).
 */
const SETTLED = Symbol('settled privacy policy');
type SettledState = NonNullable<AppEnv['Variables']['privacy']> & { [SETTLED]?: Settled };
/**
 * Without a privacy header a request's policy is its stored policies' (the store keeps each key's object for a few
 * seconds) or the default: worked out once per object and default, not per request.
 */
const withoutHeader = new WeakMap<PrivacyPolicy, WeakMap<object, Settled>>();
const settledWithoutHeader = (defaults: PrivacyPolicy, stored: StoredPolicies | undefined): Settled => {
  let known = withoutHeader.get(defaults);
  if (!known) withoutHeader.set(defaults, known = new WeakMap());
  const source = stored ?? defaults;
  let settled = known.get(source);
  if (!settled) known.set(source, settled = settledOf(inForce(stored ?? NO_STORED_POLICY, defaults).policy, {}));
  return settled;
};
const NO_STORED_POLICY: StoredPolicies = { key: null, tenant: null };

/**
 * The policy in force for this request (a 400 for a bad header or a header region nothing here serves, a 403 for a
 * region other than the key's), set into c.get('privacy').
 */
async function settle(c: Context<AppEnv>, { store, defaults = OPEN_POLICY, regions }: PrivacyPluginOptions): Promise<Settled> {
  const known = (c.get('privacy') as SettledState | undefined)?.[SETTLED];
  if (known) return known;
  const key = c.get('apiKey');
  const header = c.req.header(PRIVACY_HEADER);
  const asked = header === undefined ? undefined : parsePrivacyHeader(header);
  if (asked?.region && regions && !regions.includes(asked.region)) throw regionNotServed(asked.region, regions);
  const stored = key ? await store.forKey(key.id, key.tenantId) : undefined;
  const settled = asked ? settledOf(inForce(stored ?? NO_STORED_POLICY, defaults).policy, asked) : settledWithoutHeader(defaults, stored);
  const state: SettledState = { ...settled.policy, counts: {}, [SETTLED]: settled };
  c.set('privacy', state);
  return settled;
}

const regionCheck = (c: Context<AppEnv>, { policy, pinnedBy }: Settled, locate: LocateRequest | undefined) => () => {
  const here = locate?.(c.req.raw);
  if (here !== policy.region) throw notServedHere(policy.region!, here, pinnedBy);
};

/**
 * For billing, before it looks up an Idempotency-Key's kept answer: the request's policy settled (its refusals
 * apply to a replay as to the request), a pinned in-process request refused outside its region (here, before its
 * body is validated, since a replay runs no route; admitted first, so the refusal counts against the key's rate
 * limit), the policy hashed with the request (a replay under another policy is another
 * request: 422) and the policy header for the replayed answer.
 */
export function privacyScreen(options: PrivacyPluginOptions): (c: Context<AppEnv>) => Promise<{ variant: string; headers: Record<string, string> }> {
  return async (c) => {
    const settled = await settle(c, options);
    if (settled.policy.region && inProcess(c.req.method, c.req.path)) {
      try {
        regionCheck(c, settled, options.locate)();
      } catch (refusal) {
        await c.get('admit')({ tokens: 0, costMicroUsd: 0 }); // counted like any refusal: a 429 once the key's rate is spent
        throw refusal;
      }
    }
    const { described } = settled;
    return { variant: `${PRIVACY_HEADER}: ${described}`, headers: { [PRIVACY_HEADER]: described } };
  };
}

export function privacyMiddleware(options: PrivacyPluginOptions): MiddlewareHandler<AppEnv> {
  const { retention, locate } = options;
  return async (c, next) => {
    const key = c.get('apiKey');
    const settled = await settle(c, options);
    const { policy } = settled;
    const state = c.get('privacy')!;
    if (policy.region && inProcess(c.req.method, c.req.path)) {
      const check = regionCheck(c, settled, locate);
      if (c.req.method === 'POST') {
        // After the route's validation and admission: the refusal is counted against the key's limits like any request.
        const admit = c.get('admit');
        c.set('admit', async (estimate) => {
          await admit(estimate);
          check();
        });
      } else {
        check(); // billing admits other methods before its middleware goes on
      }
    }
    if (policy.retention === 'none' && c.req.method === 'POST') {
      if (STORING.some((path) => path.test(c.req.path))) throw retentionForbids(c.req.path);
      const idempotencyKey = c.req.header('idempotency-key');
      if (idempotencyKey !== undefined) retention?.forbidReplay(key?.id ?? null, idempotencyKey);
    }
    // Given to the answer the route makes (c.header before it exists costs a fraction of changing the finished
    // answer's headers: bench:policies). In-process classification sends no text out, so none was scanned: "none"
    // would read as "no personal data".
    c.header(PRIVACY_HEADER, settled.described);
    if (policy.pii !== 'off') c.header(PII_COUNT_HEADER, 'not-scanned');
    await next();
    // An answer made without the context's headers (an upstream's, passed through) gets them now; a scanned one its counts.
    let res = c.res;
    if (res.headers.get(PRIVACY_HEADER) === null) res = setHeader(res, PRIVACY_HEADER, settled.described);
    if (policy.pii !== 'off' && (state.scanned || res.headers.get(PII_COUNT_HEADER) === null)) {
      res = setHeader(res, PII_COUNT_HEADER, state.scanned ? formatCounts(state.counts) : 'not-scanned');
    }
    if (res !== c.res) c.res = res;
  };
}

export function privacyPlugin(options: PrivacyPluginOptions): AppPlugin {
  const handler = privacyMiddleware(options);
  return {
    // /models/*: the Hugging Face route classifies in-process too.
    middleware: ['/v1/*', '/models/*'].map((path) => ({ path, handler, responses: privacyResponses, parameters: privacyParameters, responseHeaders: privacyResponseHeaders })),
    routes: [privacyAdminRoutes(options)],
  };
}
