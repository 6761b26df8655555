/** GET /v1/usage?from=&to=&group_by=model|day|key: requests, tokens and cost of the caller's tenant. */
import { createRoute, z } from '@hono/zod-openapi';
import type { Billing } from '../billing-middleware.js';
import { roundMicroUsd } from '../../registry/pricing.js';
import { badRequestResponse, jsonResponse } from '../../http/openapi-responses.js';
import { declareRoute, routeGroup, type RouteGroup } from '../../http/route-declaration.js';
import type { UsageGroup } from '../types.js';
import { timeRange } from './time-range.js';

const GROUPS = ['model', 'day', 'key'] as const satisfies readonly UsageGroup[];

const UsageReport = z.object({
  object: z.literal('usage'), group_by: z.enum(GROUPS), from: z.string(), to: z.string(), tenant: z.string().nullable(),
  data: z.array(z.object({ requests: z.number().int(), input_tokens: z.number().int(), output_tokens: z.number().int(), cost_micro_usd: z.number() }).catchall(z.string())),
}).openapi('UsageReport');

const usage = createRoute({
  method: 'get', path: '/v1/usage', summary: "Requests, tokens and cost of the caller's tenant",
  request: {
    query: z.object({
      from: z.string().optional(),
      to: z.string().optional(),
      group_by: z.enum(GROUPS, { error: `must be one of ${GROUPS.join(', ')}` }).optional(),
    }),
  },
  responses: { 200: jsonResponse(UsageReport, 'Usage grouped by model, day or key.'), 400: badRequestResponse },
});

export function usageRoutes({ billing }: { billing: Billing }): RouteGroup {
  const group = routeGroup();
  declareRoute(group, usage, async (c) => {
    const query = c.req.valid('query');
    const groupBy = query.group_by ?? 'model';
    const range = timeRange(query, Date.now());
    // In key mode the middleware accepted the key already; usage is that key's tenant's. In open mode it is the
    // usage of requests made without a key only: never a tenant's, which a database shared with keys mode holds.
    const tenantId = c.get('apiKey')?.tenantId ?? null;
    await billing.writer.flush(c.get('apiKey')?.id); // the caller's own latest requests count (at the edge: its key's roll-up)
    const rows = await billing.store.usage({ ...range, tenantId }, groupBy);
    return c.json({
      object: 'usage', group_by: groupBy, from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), tenant: tenantId,
      data: rows.map((r) => ({ [groupBy]: r.group, requests: r.requests, input_tokens: r.inputTokens, output_tokens: r.outputTokens, cost_micro_usd: roundMicroUsd(r.costMicroUsd) })),
    });
  });
  return group;
}
