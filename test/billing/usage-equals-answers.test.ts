// Usage equals what clients saw: under a mixed load (classifications, generations whole and streamed, refusals),
// every usage row bills the tokens its answer reported at the registry's prices, and /v1/usage sums to the same.
import { describe, expect, it } from 'vitest';
import { priceOf } from './prices.js';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import { useKeysServer } from './helpers.js';
import { sqliteRows } from './sqlite-rows.js';

const ctx = useKeysServer();

interface Seen {
  id: string;
  status: number;
  model: string | null;
  input: number;
  output: number;
}

type Usage = { prompt_tokens?: number; completion_tokens?: number; input_tokens?: number };

/** The usage a streamed answer's last usage chunk reported (the client asked for it with include_usage). */
function streamedUsage(text: string): Usage | undefined {
  const chunks = text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { usage?: Usage | null });
  return chunks.findLast((c) => c.usage)?.usage ?? undefined;
}

/** Request n of the load: what it sends, and which registry model bills it when it is answered. */
function request(n: number): { path: string; body: unknown; model: string | null } {
  const maxTokens = 1 + (n % 9);
  switch (n % 6) {
    case 0: return { path: '/v1/classify', body: { input: ['a fine film', 'a dull , lifeless mess'].slice(0, 1 + (n % 2)) }, model: 'sst2-bert' };
    case 1: return { path: '/v1/chat/completions', body: { model: 'stories260K', messages: [{ role: 'user', content: `Tell story ${n}` }], max_tokens: maxTokens, seed: n }, model: 'stories260K' };
    case 2: return { path: '/v1/chat/completions', body: { model: 'tiny-stories', messages: [{ role: 'user', content: 'Once' }], max_tokens: maxTokens, stream: true, stream_options: { include_usage: true }, seed: n }, model: 'stories260K' };
    case 3: return { path: '/v1/completions', body: { model: 'stories260K', prompt: `Once upon a time ${n}`, max_tokens: maxTokens, stream: true, stream_options: { include_usage: true }, seed: n }, model: 'stories260K' };
    case 4: return { path: '/v1/completions', body: { model: 'stories260K', prompt: 'Lily', max_tokens: maxTokens, temperature: 0 }, model: 'stories260K' };
    default: return { path: '/v1/classify', body: { input: '' }, model: null }; // refused with 400: billed nothing
  }
}

async function send(key: string, n: number): Promise<Seen> {
  const { path, body, model } = request(n);
  const id = `mixed-${n}`;
  const res = await fetch(`${ctx.server.url}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-request-id': id }, body: JSON.stringify(body),
  });
  const text = await res.text();
  const usage: Usage | undefined = res.headers.get('content-type')?.startsWith('text/event-stream') ? streamedUsage(text) : (JSON.parse(text) as { usage?: Usage }).usage;
  if (res.status === 200 && !usage) throw new Error(`${id}: answered without usage: ${text.slice(0, 200)}`);
  return { id, status: res.status, model: res.status === 200 ? model : null, input: usage?.input_tokens ?? usage?.prompt_tokens ?? 0, output: usage?.completion_tokens ?? 0 };
}

describe('usage under a mixed load', () => {
  it('bills every request the tokens and cost its client saw, and /v1/usage sums to the same', async () => {
    const { key } = await ctx.admin.key('mixed', { rpm: 1_000_000 });
    const TOTAL = 120;
    const seen: Seen[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < TOTAL) seen.push(await send(key, next++));
    }));
    await ctx.server.billing!.writer.flush();
    expect(seen.filter((s) => s.status === 200)).toHaveLength(TOTAL - TOTAL / 6);
    expect(seen.filter((s) => s.output > 1).length).toBeGreaterThan(TOTAL / 3); // generations produced tokens

    const registry = await readLocalRegistry();
    const expected = seen.map((s) => ({
      id: s.id, status: s.status, input: s.input, output: s.output,
      cost: s.model ? priceOf(registry.resolve(s.model)!.price, s.input, s.output) : 0,
    }));
    const rows = sqliteRows(ctx.db.path, "SELECT request_id, status, input_tokens, output_tokens, cost_micro_usd FROM usage WHERE tenant_id = 'mixed'");
    const byId = new Map(rows.map((r) => [r.request_id as string, r]));
    expect(rows).toHaveLength(TOTAL);
    expect(seen.map((s) => byId.get(s.id)).map((r) => ({ id: r?.request_id, status: r?.status, input: r?.input_tokens, output: r?.output_tokens, cost: r?.cost_micro_usd })))
      .toEqual(expected);

    const report = (await (await fetch(`${ctx.server.url}/v1/usage?group_by=model`, { headers: { authorization: `Bearer ${key}` } })).json()) as { data: { input_tokens: number; output_tokens: number; cost_micro_usd: number }[] };
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(report.data.map((d) => d.input_tokens))).toBe(sum(expected.map((e) => e.input)));
    expect(sum(report.data.map((d) => d.output_tokens))).toBe(sum(expected.map((e) => e.output)));
    expect(sum(report.data.map((d) => d.cost_micro_usd))).toBeCloseTo(sum(expected.map((e) => e.cost)), 6);
  }, 120_000);
});
