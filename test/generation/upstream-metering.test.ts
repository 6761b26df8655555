// What the router meters from an upstream's stream, read back from the usage table as an operator would: a
// cancelled stream with its prompt and the tokens it sent (issue 17, defect 9), a stream the total timeout ends
// (issue 20), a client that goes away while the router waits (499, issue 17); and what of the usage the client
// sees of the continuous usage the router asks upstreams for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBilling, type NodeBilling } from '../../functions/node/billing-setup.js';
import { startGenerationServer, type RunningGenerationServer } from '../../functions/node/start-generation-server.js';
import { tempDb } from '../billing/helpers.js';
import { sqliteRows } from '../billing/sqlite-rows.js';
import { rawUpstream, readEvents, router, stopAfterEach } from './upstream-helpers.js';

const PRICE = { request_micro_usd: 0, input_token_micro_usd: 1, output_token_micro_usd: 10 };
stopAfterEach();

let live: RunningGenerationServer;
let db: Awaited<ReturnType<typeof tempDb>>;
let billing: NodeBilling;
beforeAll(async () => {
  [live, db] = await Promise.all([startGenerationServer({ port: 0 }), tempDb()]);
  billing = await openBilling({ mode: 'open', dbPath: db.path });
});
afterAll(async () => {
  await billing.close();
  await live.close();
  await db.remove();
});

let ids = 0;
const post = (url: string, body: Record<string, unknown>, signal?: AbortSignal) => {
  const id = `metering-${process.pid}-${++ids}`;
  const response = fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id }, body: JSON.stringify({ model: 'story', prompt: 'Once upon a time', ...body }), signal });
  return { id, response };
};

/** The usage row of a request, once it has been written. */
async function usageRow(requestId: string): Promise<Record<string, any>> {
  for (let wait = 0; wait < 200; wait++) {
    await billing.settle();
    const [row] = sqliteRows(db.path, 'SELECT * FROM usage WHERE request_id = ?', requestId);
    if (row) return row;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no usage row for ${requestId}`);
}

/** The prompt's tokens, as the generation server counts them. */
const promptTokens = async () => {
  const direct = await fetch(`${live.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'stories260K', prompt: 'Once upon a time', max_tokens: 1 }) });
  return ((await direct.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens;
};

describe('metering streams from the upstream\'s usage', () => {
  it('bills a cancelled stream its prompt tokens and the completion tokens it sent', async () => {
    const prompt = await promptTokens();
    const { url } = await router([live.url], { policy: {}, billing: billing.billing, price: PRICE });
    const abort = new AbortController();
    const request = post(url, { max_tokens: 400, temperature: 0.8, seed: 5, stream: true }, abort.signal);
    const received = await readEvents(await request.response, (n) => void (n === 4 && abort.abort())).catch(() => null);
    expect(received).toBeNull(); // the read ends in the abort
    const row = await usageRow(request.id);
    expect(row).toMatchObject({ status: 200, input_tokens: prompt });
    expect(prompt).toBeGreaterThan(0);
    expect(row.output_tokens).toBeGreaterThanOrEqual(4);
    expect(row.output_tokens).toBeLessThan(400);
    expect(row.cost_micro_usd).toBeCloseTo(prompt * 1 + row.output_tokens * 10, 6);
  });

  it.each([
    ['no stream_options', undefined, (events: string[]) => expect(events.some((e) => e.includes('"usage"'))).toBe(false)],
    ['include_usage', { include_usage: true }, (events: string[]) => {
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { usage?: unknown; choices: unknown[] });
      expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
      expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 6 } });
    }],
    ['continuous_usage_stats', { include_usage: true, continuous_usage_stats: true }, (events: string[]) => {
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { usage?: { completion_tokens: number } | null });
      expect(chunks.every((c) => c.usage && c.usage.completion_tokens >= 0)).toBe(true);
    }],
  ])('shows the client the usage it asked for (%s), and bills the whole stream', async (_name, streamOptions, check) => {
    const prompt = await promptTokens();
    const { url } = await router([live.url], { billing: billing.billing, price: PRICE });
    const request = post(url, { max_tokens: 6, temperature: 0, stream: true, ...(streamOptions ? { stream_options: streamOptions } : {}) });
    const events = await readEvents(await request.response);
    expect(events.at(-1)).toBe('[DONE]');
    check(events);
    expect(await usageRow(request.id)).toMatchObject({ status: 200, input_tokens: prompt, output_tokens: 6 });
  });

  it('ends a stream at the total timeout with an error event, and bills what it sent', async () => {
    // vLLM's chunks with continuous usage: three tokens, then the upstream goes quiet (no idle timeout here).
    const chunk = (n: number) => `data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"stories260K","choices":[{"index":0,"text":" t${n}","logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":5,"total_tokens":${5 + n},"completion_tokens":${n}}}\n\n`;
    const quiet = await rawUpstream((_req, res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).write(chunk(1) + chunk(2) + chunk(3)));
    const { url } = await router([quiet.url], { policy: { idleTimeoutMs: 60_000, totalTimeoutMs: 500 }, billing: billing.billing, price: PRICE });
    const request = post(url, { max_tokens: 100, stream: true });
    const events = await readEvents(await request.response);
    expect(events.slice(0, 3).map((e) => (JSON.parse(e) as { choices: { text: string }[] }).choices[0]!.text)).toEqual([' t1', ' t2', ' t3']);
    expect(events.slice(0, 3).every((e) => !e.includes('"usage"'))).toBe(true); // the client did not ask for usage
    expect(events).toHaveLength(4);
    expect(JSON.parse(events[3]!)).toMatchObject({ error: { code: 'upstream_timeout', type: 'server_error' } });
    expect(await usageRow(request.id)).toMatchObject({ status: 200, input_tokens: 5, output_tokens: 3, cost_micro_usd: 5 + 30 });
  });

  it('records a client that goes away while the router waits as 499, not billed', async () => {
    const abort = new AbortController();
    const held = await rawUpstream(() => abort.abort()); // the upstream has the request: the client leaves
    const { url } = await router([held.url], { billing: billing.billing, price: PRICE });
    const request = post(url, { max_tokens: 100 }, abort.signal);
    await expect(request.response).rejects.toThrow();
    expect(await usageRow(request.id)).toMatchObject({ status: 499, cost_micro_usd: 0 });
    expect(held.posts).toBe(1);
  });
});
