/**
 * The privacy policies in the admin API, behind `Authorization: Bearer <ADMIN_TOKEN>` (off, 404, without one):
 * PUT/GET /admin/keys/{id}/privacy and /admin/tenants/{id}/privacy. A PUT names pii, retention and/or region
 * (null: no pin) and nothing else; an unknown field or value, or a region nothing serves, is a 400 naming it, and
 * the policy in force stays as it was. A revoked key's policy can be read but not changed (409 key_revoked, as
 * PATCH /admin/keys/{id} answers).
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { adminOnly } from '../http/admin-only.js';
import { ApiError } from '../http/errors.js';
import { readJsonObject } from '../http/json-body.js';
import type { AppEnv } from '../http/request-context.js';
import { declareRoute, routeGroup, type RouteGroup } from '../http/route-declaration.js';
import { OPEN_POLICY, parsePolicyBody } from './policy.js';
import { inForce, type PolicyScope, type PolicyStore } from './policy-store.js';

/** What the admin routes need to know of billing's keys and tenants. */
export interface PolicySubjects {
  /** The key's tenant, or null for no such key. */
  tenantOfKey(id: string): Promise<string | null>;
  tenantExists(id: string): Promise<boolean>;
  /** Whether the key is revoked: its policy can no longer change (as its limits cannot). */
  keyRevoked?(id: string): Promise<boolean>;
}

export interface PrivacyAdminOptions {
  store: PolicyStore;
  adminToken?: string;
  subjects?: PolicySubjects;
  /** The regions a pin may name (privacy/regions.ts servedRegions); any of REGIONS when not given. */
  regions?: readonly string[];
}

const Id = z.object({ id: z.string() });
const PATHS: Record<PolicyScope, string> = { key: '/admin/keys/{id}/privacy', tenant: '/admin/tenants/{id}/privacy' };

const revoked = (id: string) =>
  new ApiError(409, `key "${id.slice(0, 100)}" is revoked for good; its privacy policy can no longer change`, 'invalid_request_error', 'key_revoked', 'id');

const notFound = (scope: PolicyScope, id: string) =>
  new ApiError(404, `${scope} "${id.slice(0, 100)}" does not exist`, 'invalid_request_error', `${scope}_not_found`, 'id');

export function privacyAdminRoutes({ store, adminToken, subjects, regions }: PrivacyAdminOptions): RouteGroup {
  const group = routeGroup();
  for (const scope of ['key', 'tenant'] as const) {
    group.use(PATHS[scope].replace('{id}', ':id'), adminOnly(adminToken));
    /** The tenant whose default applies (keys), after checking that the subject exists. */
    const check = async (id: string): Promise<string | null> => {
      if (!subjects) return null;
      if (scope === 'tenant') {
        if (!(await subjects.tenantExists(id))) throw notFound(scope, id);
        return null;
      }
      const tenant = await subjects.tenantOfKey(id);
      if (tenant === null) throw notFound(scope, id);
      return tenant;
    };
    const answer = async (c: Context<AppEnv>, id: string, tenant: string | null) => {
      const own = await store.get(scope, id);
      const inherited = tenant === null ? null : await store.get('tenant', tenant);
      const { policy, source, regionSource } = inForce(scope === 'key' ? { key: own, tenant: inherited } : { key: null, tenant: own });
      return c.json({ object: 'privacy_policy', scope, id, pii: policy.pii, retention: policy.retention, region: policy.region ?? null, source, region_source: regionSource }, 200);
    };
    const read = createRoute({ method: 'get', path: PATHS[scope], hide: true, request: { params: Id }, responses: { 200: { description: `The ${scope}'s privacy policy.` } } });
    const write = createRoute({ method: 'put', path: PATHS[scope], hide: true, request: { params: Id }, responses: { 200: { description: `The ${scope}'s privacy policy, now in force.` } } });
    declareRoute(group, read, async (c) => {
      const { id } = c.req.valid('param');
      return answer(c, id, await check(id));
    });
    declareRoute(group, write, async (c) => {
      const { id } = c.req.valid('param');
      const tenant = await check(id);
      if (scope === 'key' && (await subjects?.keyRevoked?.(id))) throw revoked(id);
      const body = await readJsonObject(c);
      // A PUT names the fields it changes; the others keep the subject's own policy, else (a key's first row) its
      // tenant's pii and retention, so that pinning a key to a region does not undo its tenant's redaction.
      const inherited = tenant === null ? null : await store.get('tenant', tenant);
      const start = (await store.get(scope, id)) ?? (inherited ? { pii: inherited.pii, retention: inherited.retention } : OPEN_POLICY);
      const next = parsePolicyBody(body, start, regions);
      await store.put(scope, id, next);
      return answer(c, id, tenant);
    });
  }
  return group;
}
