// The Stripe export bills exactly what /v1/usage reports, over a mixed load whose requests cost fractions of a
// micro-dollar (generation at 0.05 and 0.2 per token) and whole ones (classification at 10).
import { expect, it } from 'vitest';
import { PICO_PER_MICRO } from '../../functions/billing/stripe-export.js';
import { ADMIN, classifyWith, useKeysServer } from './helpers.js';

const ctx = useKeysServer();

it('exports per customer the same total, to the pico-dollar, as /v1/usage reports', async () => {
  const { key } = await ctx.admin.key('exact');
  const complete = (prompt: string, maxTokens: number) => fetch(`${ctx.server.url}/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'stories260K', prompt, max_tokens: maxTokens, temperature: 0 }),
  }).then((r) => r.json());
  // 5 prompt tokens and 1 completion token: 0.45 micro-USD, which rounding per record to micro-dollars dropped.
  for (let i = 0; i < 7; i++) await complete('Once upon a time', 1);
  for (let i = 0; i < 3; i++) await complete('The little dog', 2 + i);
  for (let i = 0; i < 4; i++) await classifyWith(ctx.server.url, key, { input: ['one', 'two'] });
  const usage = await (await fetch(`${ctx.server.url}/v1/usage?group_by=key`, { headers: { authorization: `Bearer ${key}` } })).json() as { data: { cost_micro_usd: number; requests: number }[] };
  const reported = usage.data.reduce((sum, row) => sum + row.cost_micro_usd, 0);
  const events = ((await ctx.admin.call('GET', '/billing/export')).body as string).trim().split('\n').map((l) => JSON.parse(l) as { payload: { stripe_customer_id: string; value: string } });
  const exported = events.filter((e) => e.payload.stripe_customer_id === 'cus_exact').reduce((sum, e) => sum + Number(e.payload.value), 0);
  expect(usage.data[0]!.requests).toBe(14);
  expect(reported % 1).not.toBe(0); // the load has fractional costs
  expect(exported).toBe(Math.round(reported * PICO_PER_MICRO));
});

it('counts the billed usage no event can carry (a tenant without a Stripe customer) instead of dropping it silently', async () => {
  expect((await ctx.admin.call('POST', '/tenants', { id: 'no_customer' })).status).toBe(201);
  const created = await ctx.admin.call('POST', '/keys', { tenant: 'no_customer' });
  const key = (created.body as { key: string }).key;
  const before = await fetch(`${ctx.server.url}/admin/billing/export`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const counted = Number(before.headers.get('x-unexported-records'));
  for (let i = 0; i < 3; i++) expect((await classifyWith(ctx.server.url, key)).status).toBe(200);
  const after = await fetch(`${ctx.server.url}/admin/billing/export`, { headers: { authorization: `Bearer ${ADMIN}` } });
  expect(Number(after.headers.get('x-unexported-records'))).toBe(counted + 3);
  expect(Number(after.headers.get('x-unexported-micro-usd'))).toBeGreaterThanOrEqual(30);
});
