/**
 * The admin API, behind `Authorization: Bearer <ADMIN_TOKEN>`: tenants, keys (shown once at creation), key
 * status, and the Stripe meter-event export. Without an admin token configured it answers 404.
 */
import { Hono } from 'hono';
import type { Billing } from '../billing-middleware.js';
import { createKey, createTenant, describeKey, setStatus } from '../key-admin.js';
import { roundMicroUsd } from '../../registry/pricing.js';
import { stripeMeterEvents } from '../stripe-export.js';
import { sameHash } from '../api-keys.js';
import { ApiError } from '../../http/errors.js';
import { readJsonObject } from '../../http/json-body.js';
import { timeRange } from './time-range.js';

export function adminRoutes(billing: Billing, adminToken: string | undefined): Hono {
  const app = new Hono();
  app.use('*', async (c, next) => {
    if (!adminToken) throw new ApiError(404, 'the admin API is off: set ADMIN_TOKEN to turn it on', 'invalid_request_error', 'not_found');
    const given = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
    if (!sameHash(given, adminToken)) throw new ApiError(401, 'the admin API needs "Authorization: Bearer <ADMIN_TOKEN>"', 'authentication_error', 'invalid_admin_token');
    await next();
  });
  app.post('/tenants', async (c) => {
    const body = await readJsonObject(c);
    return c.json(await createTenant(billing.store, body.id, body.stripe_customer_id, Date.now()), 201);
  });
  app.post('/keys', async (c) => c.json(await createKey(billing.store, await readJsonObject(c), Date.now()), 201));
  app.get('/keys', async (c) => c.json({ object: 'list', data: (await billing.store.listKeys(c.req.query('tenant'))).map(describeKey) }));
  const status = (path: string, to: 'active' | 'disabled' | 'revoked', method: 'post' | 'delete') =>
    app[method](path, async (c) => {
      const key = await setStatus(billing.store, c.req.param('id')!, to, Date.now());
      billing.authenticator.forget(key.prefix);
      return c.json(key);
    });
  status('/keys/:id/disable', 'disabled', 'post');
  status('/keys/:id/enable', 'active', 'post');
  status('/keys/:id', 'revoked', 'delete');
  app.get('/billing/export', async (c) => {
    const range = timeRange({ from: c.req.query('from'), to: c.req.query('to') }, Date.now());
    await billing.writer.flush();
    let lines = '';
    const unexported = { records: 0, microUsd: 0 };
    for await (const line of stripeMeterEvents(billing.store, range.from, range.to, unexported)) lines += line;
    // Billed usage no event carries (no key, or a tenant without a Stripe customer) is counted, never silently lost.
    return c.body(lines, 200, {
      'content-type': 'application/x-ndjson',
      'x-unexported-records': String(unexported.records),
      'x-unexported-micro-usd': String(roundMicroUsd(unexported.microUsd)),
    });
  });
  return app;
}
