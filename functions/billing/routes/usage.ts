/** GET /v1/usage?from=&to=&group_by=model|day|key: requests, tokens and cost of the caller's tenant. */
import { Hono } from 'hono';
import type { Billing } from '../billing-middleware.js';
import { roundMicroUsd } from '../../registry/pricing.js';
import type { AppEnv } from '../../http/request-context.js';
import type { UsageGroup } from '../types.js';
import { invalidRequest } from '../../http/errors.js';
import { timeRange } from './time-range.js';

const GROUPS: UsageGroup[] = ['model', 'day', 'key'];

export function usageRoutes(billing: Billing): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => {
    const group = (c.req.query('group_by') ?? 'model') as UsageGroup;
    if (!GROUPS.includes(group)) throw invalidRequest(`"group_by" must be one of ${GROUPS.join(', ')}`, 'group_by');
    const range = timeRange({ from: c.req.query('from'), to: c.req.query('to') }, Date.now());
    // In key mode the middleware accepted the key already; usage is that key's tenant's. In open mode it is the
    // usage of requests made without a key only: never a tenant's, which a database shared with keys mode holds.
    const tenantId = c.var.apiKey?.tenantId ?? null;
    await billing.writer.flush(); // the caller's own latest requests count
    const rows = await billing.store.usage({ ...range, tenantId }, group);
    return c.json({
      object: 'usage', group_by: group, from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), tenant: tenantId,
      data: rows.map((r) => ({ [group]: r.group, requests: r.requests, input_tokens: r.inputTokens, output_tokens: r.outputTokens, cost_micro_usd: roundMicroUsd(r.costMicroUsd) })),
    });
  });
  return app;
}
