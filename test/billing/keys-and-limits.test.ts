// API keys, rate limits, budgets, idempotency and usage against the real server with an SQLite file.
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { classifyWith, useKeysServer } from './helpers.js';
import { classificationHold, priceOf } from './prices.js';
import { registryPrice } from './registry-price.js';
import { sqliteRows } from './sqlite-rows.js';

const ctx = useKeysServer();

const rows = (sql: string, ...params: unknown[]) => sqliteRows(ctx.db.path, sql, ...params);
/** What a classification costs: the default model's price from the registry, for the tokens its answer says it read. */
const classificationCost = async (answer: Response) =>
  priceOf(await registryPrice('sst2-glove-bilstm'), ((await answer.json()) as { usage: { input_tokens: number } }).usage.input_tokens, 0);

/** Another key of the same shape: its last character changed (a fixed "x" is the key itself once in 62 runs). */
const otherKey = (key: string) => `${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`;

type Send = () => Promise<Response>;
/** Each case makes its own key in the state it names, and says how a client then calls. */
const authCases: [string, () => Promise<Send>, number, RegExp | null][] = [
  ['a Bearer key', async () => {
    const { key } = await ctx.admin.key('acme');
    return () => classifyWith(ctx.server.url, key);
  }, 200, null],
  ['an x-api-key key', async () => {
    const { key } = await ctx.admin.key('acme');
    return () => fetch(`${ctx.server.url}/v1/models`, { headers: { 'x-api-key': key } });
  }, 200, null],
  ['no key', async () => () => classifyWith(ctx.server.url, null), 401, /Authorization: Bearer/],
  ['an unknown key', async () => {
    const { key } = await ctx.admin.key('acme');
    return () => classifyWith(ctx.server.url, otherKey(key));
  }, 401, /not valid/],
  ['a disabled key', async () => {
    const { id, key } = await ctx.admin.key('acme');
    expect((await ctx.admin.call('POST', `/keys/${id}/disable`)).status).toBe(200);
    return () => classifyWith(ctx.server.url, key);
  }, 403, /disabled/],
  ['a key enabled again', async () => {
    const { id, key } = await ctx.admin.key('acme');
    expect((await ctx.admin.call('POST', `/keys/${id}/disable`)).status).toBe(200);
    expect((await ctx.admin.call('POST', `/keys/${id}/enable`)).status).toBe(200);
    return () => classifyWith(ctx.server.url, key);
  }, 200, null],
  ['a revoked key', async () => {
    const { id, key } = await ctx.admin.key('acme');
    expect((await ctx.admin.call('DELETE', `/keys/${id}`)).status).toBe(200);
    return () => classifyWith(ctx.server.url, key);
  }, 403, /revoked/],
];

describe('API keys', () => {
  it.each(authCases)('%s: the request gets its status', async (_name, setUp, status, message) => {
    const send = await setUp();
    const res = await send();
    expect(res.status).toBe(status);
    if (message) expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message);
  });

  it('are em_ and 40 characters, and a revoked one cannot be enabled again', async () => {
    const { id, key } = await ctx.admin.key('acme');
    expect(key).toMatch(/^em_[0-9A-Za-z]{40}$/);
    expect((await ctx.admin.call('DELETE', `/keys/${id}`)).status).toBe(200);
    expect((await ctx.admin.call('POST', `/keys/${id}/enable`)).status).toBe(409);
  });

  it('stores only a hash and a prefix of each key', async () => {
    const { key } = await ctx.admin.key('hashes');
    const stored = rows('SELECT * FROM api_keys WHERE prefix = ?', key.slice(0, 12));
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(rows('SELECT * FROM api_keys'))).not.toContain(key);
    expect(stored[0]!.key_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['unknown tenant', 'POST', '/keys', { tenant: 'ghost', rpm: 10 }, 400, /does not exist/],
    ['negative limit', 'POST', '/keys', { tenant: 'acme', rpm: -5 }, 400, /"rpm" must be an integer from 1 to 1,000,000/],
    ['fractional tpm', 'POST', '/keys', { tenant: 'acme', tpm: 1.5 }, 400, /"tpm"/],
    ['a misspelt budget (never a key without one)', 'POST', '/keys', { tenant: 'acme', budget_usd: 0.000025 }, 400, /unknown field "budget_usd"/],
    ['an unknown tenant field', 'POST', '/tenants', { id: 'typo-co', stripe_customer: 'cus_1' }, 400, /unknown field "stripe_customer"/],
    ['malformed JSON', 'POST', '/keys', '{"tenant": ', 400, /not valid JSON/],
    ['bad tenant id', 'POST', '/tenants', { id: 'Not Valid!' }, 400, /"id"/],
    ['duplicate tenant', 'POST', '/tenants', { id: 'acme' }, 409, /exists/],
    ['the open-mode tenant', 'POST', '/tenants', { id: 'open' }, 400, /"open" is reserved/],
    ['unknown key', 'POST', '/keys/key_nope/disable', undefined, 404, /no key/],
  ])('admin: %s gets a clear error', async (_name, method, path, body, status, message) => {
    const res = await ctx.admin.call(method, path, body);
    expect(res.status).toBe(status);
    expect((res.body as { error: { message: string } }).error.message).toMatch(message);
  });

  it('admin API needs the admin token', async () => {
    expect((await ctx.admin.call('GET', '/keys', undefined, 'wrong')).status).toBe(401);
  });
});

describe('rate limits', () => {
  it('answer 429 past the requests per minute, with Retry-After, RateLimit and x-ratelimit-* headers', async () => {
    const { key } = await ctx.admin.key('limited', { rpm: 3 });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await classifyWith(ctx.server.url, key));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    const ok = answers[0]!;
    expect(ok.headers.get('ratelimit-policy')).toBe('"requests";q=3;w=60, "tokens";q=1000000;w=60');
    expect(ok.headers.get('x-ratelimit-limit-requests')).toBe('3');
    expect(ok.headers.get('x-ratelimit-remaining-requests')).toBe('2');
    const refused = answers[3]!;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('ratelimit')).toMatch(/"requests";r=0;t=\d+/);
    expect(((await refused.json()) as { error: { type: string } }).error.type).toBe('rate_limit_error');
  });

  it('answer 429 once the tokens per minute are spent', async () => {
    const { key } = await ctx.admin.key('tokens', { tpm: 10 });
    expect((await classifyWith(ctx.server.url, key, { input: 'a long sentence with more than ten tokens in it , surely' })).status).toBe(200);
    const refused = await classifyWith(ctx.server.url, key);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
  });
});

describe('budgets, idempotency and usage', () => {
  it('answers 402 once the monthly budget is spent', async () => {
    // A request is admitted only if its most cost fits in what is left: two fit, a third would pass it.
    const hold = classificationHold(await registryPrice('sst2-glove-bilstm'), ['a fine film']);
    const { key } = await ctx.admin.key('budget', { monthly_budget_micro_usd: Math.floor(2.5 * hold) });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await classifyWith(ctx.server.url, key)).status);
    expect(statuses).toEqual([200, 200, 402, 402]);
  });

  it('names a budget under a cent as it is in the 402, not as 0.00 USD', async () => {
    const { key } = await ctx.admin.key('tiny', { monthly_budget_micro_usd: 5 });
    const refused = await classifyWith(ctx.server.url, key);
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/monthly budget of 0\.000005 USD/);
  });

  it('answers a retried Idempotency-Key again but bills it once', async () => {
    const { key } = await ctx.admin.key('idem');
    const first = await classifyWith(ctx.server.url, key, { input: 'a fine film' }, { 'idempotency-key': 'order-1' });
    const again = await classifyWith(ctx.server.url, key, { input: 'a fine film' }, { 'idempotency-key': 'order-1' });
    expect([first.status, again.status]).toEqual([200, 200]);
    const answer = await first.clone().json();
    expect(await again.json()).toEqual(answer);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    await ctx.server.billing!.writer.flush();
    const billed = rows("SELECT cost_micro_usd, idempotent_replay FROM usage WHERE tenant_id = 'idem' ORDER BY idempotent_replay");
    expect(billed).toEqual([{ cost_micro_usd: await classificationCost(first), idempotent_replay: 0 }, { cost_micro_usd: 0, idempotent_replay: 1 }]);
  });

  it('records one usage row per request with model, path, tokens, status and cost; never a body', async () => {
    const { key, id } = await ctx.admin.key('meter');
    const ok = await classifyWith(ctx.server.url, key, { input: ['secret words one', 'secret words two'] });
    const bad = await classifyWith(ctx.server.url, key, { input: '' });
    expect([ok.status, bad.status]).toEqual([200, 400]);
    await ctx.server.billing!.writer.flush();
    const records = rows("SELECT * FROM usage WHERE tenant_id = 'meter' ORDER BY status");
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ request_id: ok.headers.get('x-request-id'), key_id: id, model: 'sst2-glove-bilstm', model_version: '2', path: 'edge', status: 200, output_tokens: 0, cost_micro_usd: await classificationCost(ok), route: 'POST /v1/classify' });
    expect(records[0]!.input_tokens).toBeGreaterThan(6);
    expect(records[1]).toMatchObject({ status: 400, cost_micro_usd: 0 });
    expect(JSON.stringify(rows('SELECT * FROM usage'))).not.toContain('secret');
  });

  it('reports usage by model, day and key for the caller\'s tenant', async () => {
    const { key } = await ctx.admin.key('report');
    const today = () => new Date().toISOString().slice(0, 10);
    const dayBefore = today();
    let cost = 0;
    for (let i = 0; i < 3; i++) cost += await classificationCost(await classifyWith(ctx.server.url, key));
    const byModel = (await (await fetch(`${ctx.server.url}/v1/usage?group_by=model`, { headers: { authorization: `Bearer ${key}` } })).json()) as { tenant: string; data: Record<string, any>[] };
    expect(byModel.tenant).toBe('report');
    expect(byModel.data).toEqual([expect.objectContaining({ model: 'sst2-glove-bilstm@2', requests: 3, cost_micro_usd: expect.closeTo(cost, 6) })]);
    const byDay = (await (await fetch(`${ctx.server.url}/v1/usage?group_by=day`, { headers: { authorization: `Bearer ${key}` } })).json()) as { data: Record<string, any>[] };
    const dayAfter = today();
    // Every request ran on a day the clock read before or after them (two days only across a UTC midnight).
    expect(byDay.data.length).toBeGreaterThanOrEqual(1);
    for (const d of byDay.data) expect([dayBefore, dayAfter]).toContain(d.day);
    const bad = await fetch(`${ctx.server.url}/v1/usage?group_by=planet`, { headers: { authorization: `Bearer ${key}` } });
    expect(bad.status).toBe(400);
  });

  it('exports billed requests as Stripe meter events', async () => {
    const { key } = await ctx.admin.key('stripe');
    const answer = await classifyWith(ctx.server.url, key);
    expect(answer.status).toBe(200);
    const picoUsd = Math.round((await classificationCost(answer)) * 1e6);
    const events = ((await ctx.admin.call('GET', '/billing/export')).body as string).trim().split('\n').map((l) => JSON.parse(l));
    const [row] = rows("SELECT id FROM usage WHERE tenant_id = 'stripe'") as { id: string }[];
    const mine = events.find((e) => e.identifier === row!.id);
    expect(mine).toEqual({ event_name: 'edge_maas_cost_pico_usd', payload: { stripe_customer_id: 'cus_stripe', value: String(picoUsd) }, identifier: row!.id, timestamp: expect.any(Number) });
  });

  it('meters generation from the upstream\'s usage: streamed when the stream ends, cancelled with what it produced', async () => {
    const { key } = await ctx.admin.key('gen');
    const post = (body: unknown, signal?: AbortSignal) => fetch(`${ctx.server.url}/v1/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body), signal,
    });
    const whole = await post({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 12, stream: true });
    const text = await whole.text();
    expect(text).not.toMatch(/"choices":\[\],"usage"/); // the client did not ask for the usage chunk
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    // The cut stream asks for vLLM's usage on every chunk, so the client knows how far the generation had got
    // when it hung up: the bill is at least that, with the prompt's tokens exactly.
    const abort = new AbortController();
    const cut = await post({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 400, temperature: 0.9, seed: 4, stream: true, stream_options: { include_usage: true, continuous_usage_stats: true } }, abort.signal);
    const reader = cut.body!.getReader();
    let received = '';
    let seen = { prompt_tokens: 0, completion_tokens: 0 };
    while (seen.completion_tokens < 4) {
      received += new TextDecoder().decode((await reader.read()).value);
      const events = received.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { usage?: typeof seen });
      seen = events.findLast((e) => e.usage)?.usage ?? seen;
    }
    abort.abort();
    const records = await eventually(async () => {
      await ctx.server.billing!.writer.flush();
      return rows("SELECT request_id, model, path, input_tokens, output_tokens, cost_micro_usd, status FROM usage WHERE tenant_id = 'gen' ORDER BY created_at");
    }, (r) => r.length >= 2);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ request_id: whole.headers.get('x-request-id'), model: 'stories260K', path: 'gpu', input_tokens: 5, output_tokens: 12, status: 200 });
    expect(records[0]!.cost_micro_usd).toBeCloseTo(5 * 0.05 + 12 * 0.2, 6);
    expect(records[1]!.request_id).toBe(cut.headers.get('x-request-id'));
    expect(records[1]!.input_tokens).toBe(seen.prompt_tokens);
    expect(records[1]!.output_tokens).toBeGreaterThanOrEqual(seen.completion_tokens);
    expect(records[1]!.output_tokens).toBeLessThan(400);
    expect(records[1]!.cost_micro_usd).toBeCloseTo(records[1]!.input_tokens * 0.05 + records[1]!.output_tokens * 0.2, 6);
  });
});
