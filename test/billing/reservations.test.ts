// Budgets and token limits are reserved when a request is admitted: concurrent requests, in one server or in two
// servers over one store, never spend past them. Real servers on 127.0.0.1, one SQLite file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';
import { ADMIN, adminClient, classifyWith, tempDb } from './helpers.js';
import { classificationHold, priceOf } from './prices.js';
import { registryPrice } from './registry-price.js';
import { sqliteRows } from './sqlite-rows.js';

let first: RunningServer;
let second: RunningServer;
let db: Awaited<ReturnType<typeof tempDb>>;
let admin: ReturnType<typeof adminClient>;

beforeAll(async () => {
  db = await tempDb();
  first = await startServer({ port: 0, auth: 'keys', usageDb: db.path, adminToken: ADMIN });
  // A second process's worth of state: its own rate limiter and caches, the same store.
  second = await startServer({ port: 0, auth: 'keys', usageDb: db.path, adminToken: ADMIN, generation: false });
  admin = adminClient(first.url);
}, 60_000);
afterAll(async () => {
  await Promise.all([first?.close(), second?.close()]);
  await db?.remove();
});

const generate = (url: string, key: string, maxTokens: number, extra: Record<string, unknown> = {}) =>
  fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: maxTokens, stream: true, ...extra }),
  }).then(async (res) => ({ status: res.status, text: await res.text() }));

/** A classification of classifyWith's text: its status, and what its answer's tokens cost at the registry's price. */
const classification = async (url: string, key: string) => {
  const answer = await classifyWith(url, key);
  const tokens = answer.status === 200 ? ((await answer.json()) as { usage: { input_tokens: number } }).usage.input_tokens : 0;
  return { status: answer.status, cost: tokens ? priceOf(await registryPrice('sst2-bert'), tokens, 0) : 0 };
};
/** A budget that holds `n` classifications' most cost at once, and not one more (an integer, as keys take them). */
const budgetFor = async (n: number) => Math.floor((n + 0.5) * classificationHold(await registryPrice('sst2-bert'), ['a fine film']));

const spent = async (tenant: string) => {
  await Promise.all([first.billing!.writer.flush(), second.billing!.writer.flush()]);
  return sqliteRows(db.path, 'SELECT COALESCE(SUM(cost_micro_usd), 0) AS spent, COUNT(*) AS rows FROM usage WHERE tenant_id = ?', tenant)[0] as { spent: number; rows: number };
};

describe('reserved at admission', () => {
  it('a budget holds under 40 concurrent classifications: exactly what fits is served', async () => {
    const { key } = await admin.key('budget_burst', { monthly_budget_micro_usd: await budgetFor(2) });
    const answers = await Promise.all(Array.from({ length: 40 }, () => classification(first.url, key)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(2);
    expect(answers.filter((a) => a.status === 402)).toHaveLength(38);
    const billed = await spent('budget_burst');
    expect(billed.rows).toBe(40);
    expect(billed.spent).toBeCloseTo(answers.reduce((sum, a) => sum + a.cost, 0), 6);
  });

  it('a budget holds for streamed generations: each reserves its max_tokens, and spend stays within it', async () => {
    // 400 output tokens at 0.2 micro-USD are 80 of the 200: two fit while both run.
    const { key } = await admin.key('budget_gen', { monthly_budget_micro_usd: 200 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => generate(first.url, key, 400)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(2);
    expect(answers.filter((a) => a.status === 402)).toHaveLength(18);
    expect(answers.find((a) => a.status === 402)!.text).toMatch(/max_tokens/);
    const { spent: total } = await spent('budget_gen');
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(200);
  });

  it('a token limit holds for concurrent generations: the first reserves its maximum, the others wait', async () => {
    const { key } = await admin.key('tpm_gen', { tpm: 50 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => generate(first.url, key, 200)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, ...Array(9).fill(429)]);
  });

  it('a budget holds across two servers sharing one store', async () => {
    const { key } = await admin.key('budget_shared', { monthly_budget_micro_usd: await budgetFor(10) });
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => classification((i % 2 ? first : second).url, key)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(10);
    const billed = await spent('budget_shared');
    expect(billed.rows).toBe(30);
    expect(billed.spent).toBeCloseTo(answers.reduce((sum, a) => sum + a.cost, 0), 6);
    // Both servers see the budget as spent.
    expect((await classifyWith(first.url, key)).status).toBe(402);
    expect((await classifyWith(second.url, key)).status).toBe(402);
  });

  it('a request that used less than it reserved gives the rest back', async () => {
    // The first reserves 217 of 200 (prompt bound + max_tokens) and would leave the key in debt for seconds; it stops
    // at the first "." (about 15 tokens used), so the rest comes back and the next request is admitted at once.
    const { key } = await admin.key('refund', { tpm: 200 });
    for (let i = 0; i < 2; i++) expect((await generate(first.url, key, 200, { temperature: 0, stop: '.' })).status).toBe(200);
  });

  it('reserves at least what prompts really cost, so a budget holds even for tiny, odd prompts', async () => {
    // Prompts whose token counts run past their UTF-8 bytes: the prepended space, BOS, the chat template's text.
    const { key } = await admin.key('odd_prompts', { monthly_budget_micro_usd: 10 });
    const chat = (content: string, role = 'assistant') => fetch(`${first.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'stories260K', messages: [{ role, content }], max_tokens: 1 }),
    }).then((r) => r.status);
    const statuses = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? chat('') : i % 3 === 1 ? chat('', 'system') : generate(first.url, key, 1, { prompt: i % 2 ? 'x' : '😀', stream: false }).then((a) => a.status))));
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    const { spent: total } = await spent('odd_prompts');
    expect(total).toBeLessThanOrEqual(10);
  });
});

