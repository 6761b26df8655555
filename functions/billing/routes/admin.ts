/**
 * The admin API, behind `Authorization: Bearer <ADMIN_TOKEN>`: tenants, keys (shown once at creation), key
 * status, limits and budget, and the Stripe meter-event export. Without an admin token configured it answers 404. Its routes are in
 * the route table (405 answers) but not in the public OpenAPI document.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Billing } from '../billing-middleware.js';
import { changeKey, createKey, createTenant, describeKey, setStatus } from '../key-admin.js';
import { roundMicroUsd } from '../../registry/pricing.js';
import { exportableRange, stripeMeterEvents, type Unexported } from '../stripe-export.js';
import { adminOnly } from '../../http/admin-only.js';
import { readJsonObject } from '../../http/json-body.js';
import { declareRoute, routeGroup, type RouteGroup } from '../../http/route-declaration.js';
import type { KeyStatus } from '../types.js';
import { timeRange } from './time-range.js';

export interface AdminRouteOptions {
  billing: Billing;
  /** The bearer token the admin API requires; the API is off (404) without one. */
  adminToken?: string;
}

const done = (description: string) => ({ description });
const KeyId = z.object({ id: z.string() });
const Range = z.object({ from: z.string().optional(), to: z.string().optional() });

const newTenant = createRoute({ method: 'post', path: '/admin/tenants', hide: true, responses: { 201: done('The tenant.') } });
const newKey = createRoute({ method: 'post', path: '/admin/keys', hide: true, responses: { 201: done('The key, shown this once.') } });
const listKeys = createRoute({ method: 'get', path: '/admin/keys', hide: true, request: { query: z.object({ tenant: z.string().optional() }) }, responses: { 200: done('The keys, without their secrets.') } });
const editKey = createRoute({ method: 'patch', path: '/admin/keys/{id}', hide: true, request: { params: KeyId }, responses: { 200: done('The key with its new name, limits or budget.') } });
const billingExport = createRoute({ method: 'get', path: '/admin/billing/export', hide: true, request: { query: Range }, responses: { 200: done('Stripe meter events as NDJSON.') } });
const statusChanges: { method: 'post' | 'delete'; path: string; status: KeyStatus }[] = [
  { method: 'post', path: '/admin/keys/{id}/disable', status: 'disabled' },
  { method: 'post', path: '/admin/keys/{id}/enable', status: 'active' },
  { method: 'delete', path: '/admin/keys/{id}', status: 'revoked' },
];

export function adminRoutes({ billing, adminToken }: AdminRouteOptions): RouteGroup {
  const group = routeGroup();
  group.use('/admin/*', adminOnly(adminToken));
  declareRoute(group, newTenant, async (c) => c.json(await createTenant(billing.store, await readJsonObject(c), Date.now()), 201));
  declareRoute(group, newKey, async (c) => c.json(await createKey(billing.store, await readJsonObject(c), Date.now()), 201));
  declareRoute(group, listKeys, async (c) => c.json({ object: 'list', data: (await billing.store.listKeys(c.req.valid('query').tenant)).map(describeKey) }));
  for (const { method, path, status } of statusChanges) {
    const change = createRoute({ method, path, hide: true, request: { params: KeyId }, responses: { 200: done(`The key, now ${status}.`) } });
    declareRoute(group, change, async (c) => {
      const key = await setStatus(billing.store, { id: c.req.valid('param').id, status }, Date.now());
      billing.authenticator.forget(key.prefix);
      return c.json(key);
    });
  }
  declareRoute(group, editKey, async (c) => {
    const key = await changeKey(billing.store, c.req.valid('param').id, await readJsonObject(c), Date.now());
    // This process's next request sees the new limits; other processes once their cached lookup expires (cacheMs).
    billing.authenticator.forget(key.prefix);
    return c.json(key);
  });
  declareRoute(group, billingExport, async (c) => {
    const now = Date.now();
    const range = exportableRange(billing.store, timeRange(c.req.valid('query'), now), now);
    await billing.writer.flush();
    let lines = '';
    const unexported: Unexported = { records: 0, microUsd: 0 };
    for await (const line of stripeMeterEvents(billing.store, range, unexported)) lines += line;
    // Billed usage no event carries (no key, or a tenant without a Stripe customer) is counted, never silently lost.
    return c.body(lines, 200, {
      'content-type': 'application/x-ndjson',
      'x-unexported-records': String(unexported.records),
      'x-unexported-micro-usd': String(roundMicroUsd(unexported.microUsd)),
      // Corrections with no event of their customer's in the range to net against: owed back, to credit in Stripe.
      'x-uncredited-micro-usd': String(roundMicroUsd(unexported.credits?.microUsd ?? 0)),
      // Where the export ended (earlier than asked while roll-ups of the last minutes may still grow): the next one's from.
      'x-export-to': new Date(range.to).toISOString(),
    });
  });
  return group;
}
