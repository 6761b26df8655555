/**
 * The soak's request mix: classification (single, batched, the Hugging Face route), generation (streamed and not),
 * bad requests, and clients that hang up mid-stream or mid-upload. Each kind says whether the server meters it
 * (every /v1 and /models request that passed authentication writes one usage record).
 */
import { request } from 'node:http';

export interface Outcome {
  status: number | 'hung up' | 'failed';
  body?: string;
}

export interface Context {
  url: string;
  key: string;
  sentences: string[];
  next: () => number;
}

interface Kind {
  name: string;
  weight: number;
  metered: boolean;
  run(ctx: Context): Promise<Outcome>;
}

const REQUEST_LIMIT_MS = 60_000;
const PROMPTS = ['Once upon a time', 'The little dog', 'Lily wanted to', 'One day, a boy named Tom'];

const pick = <T>(ctx: Context, items: readonly T[]) => items[Math.floor(ctx.next() * items.length)]!;
const between = (ctx: Context, low: number, high: number) => low + Math.floor(ctx.next() * (high - low + 1));

async function post(ctx: Context, path: string, body: string, headers: Record<string, string> = { authorization: `Bearer ${ctx.key}`, 'content-type': 'application/json' }): Promise<Outcome> {
  const res = await fetch(`${ctx.url}${path}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(REQUEST_LIMIT_MS) });
  const text = await res.text();
  return { status: res.status, body: text.slice(0, 300) };
}
const postJson = (ctx: Context, path: string, body: unknown) => post(ctx, path, JSON.stringify(body));

/** A streamed generation read to its end, or (cut) abandoned after its first chunk. */
async function stream(ctx: Context, path: string, body: Record<string, unknown>, cut: boolean): Promise<Outcome> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), REQUEST_LIMIT_MS);
  try {
    const res = await fetch(`${ctx.url}${path}`, {
      method: 'POST', signal: abort.signal,
      headers: { authorization: `Bearer ${ctx.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, stream: true }),
    });
    if (!cut || !res.ok) {
      const text = await res.text();
      // A stream that broke ends with an error event instead of [DONE]: as bad as a 5xx.
      const broken = res.ok && !text.trimEnd().endsWith('data: [DONE]');
      return { status: broken ? 'failed' : res.status, body: text.slice(-300) };
    }
    await res.body!.getReader().read();
    abort.abort();
    return { status: res.status };
  } finally {
    clearTimeout(timer);
  }
}

/** Half of a classification body, then the connection closed: the server must not count it as its own failure. */
function hangUpMidUpload(ctx: Context): Promise<Outcome> {
  const { hostname, port } = new URL(ctx.url);
  const body = Buffer.from(JSON.stringify({ input: pick(ctx, ctx.sentences) }));
  return new Promise((resolve) => {
    const req = request({ host: hostname, port, method: 'POST', path: '/v1/classify', headers: { authorization: `Bearer ${ctx.key}`, 'content-type': 'application/json', 'content-length': body.length * 2 } });
    req.on('error', () => resolve({ status: 'hung up' }));
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode! });
    });
    req.write(body);
    setTimeout(() => {
      req.destroy();
      resolve({ status: 'hung up' });
    }, 20);
  });
}

const completion = (ctx: Context) => ({ model: 'stories260K', prompt: pick(ctx, PROMPTS), max_tokens: between(ctx, 16, 64), temperature: 0.8, seed: between(ctx, 1, 1000) });
const chat = (ctx: Context) => ({ model: 'stories260K', messages: [{ role: 'user', content: pick(ctx, PROMPTS) }], max_tokens: between(ctx, 16, 64) });

export const KINDS: Kind[] = [
  { name: 'classify one', weight: 28, metered: true, run: (ctx) => postJson(ctx, '/v1/classify', { input: pick(ctx, ctx.sentences) }) },
  { name: 'classify batch', weight: 8, metered: true, run: (ctx) => postJson(ctx, '/v1/classify', { input: Array.from({ length: between(ctx, 8, 64) }, () => pick(ctx, ctx.sentences)) }) },
  { name: 'classify (HF route)', weight: 5, metered: true, run: (ctx) => postJson(ctx, '/models/sentiment', { inputs: pick(ctx, ctx.sentences) }) },
  { name: 'completion', weight: 10, metered: true, run: (ctx) => postJson(ctx, '/v1/completions', completion(ctx)) },
  { name: 'chat, streamed', weight: 12, metered: true, run: (ctx) => stream(ctx, '/v1/chat/completions', chat(ctx), false) },
  { name: 'completion, streamed', weight: 5, metered: true, run: (ctx) => stream(ctx, '/v1/completions', completion(ctx), false) },
  { name: 'stream, client hangs up', weight: 6, metered: true, run: (ctx) => stream(ctx, '/v1/completions', { ...completion(ctx), max_tokens: 300 }, true) },
  { name: 'upload, client hangs up', weight: 4, metered: true, run: hangUpMidUpload },
  { name: 'list models', weight: 3, metered: true, run: async (ctx) => {
    const res = await fetch(`${ctx.url}/v1/models`, { headers: { authorization: `Bearer ${ctx.key}` }, signal: AbortSignal.timeout(REQUEST_LIMIT_MS) });
    return { status: res.status, body: (await res.text()).slice(0, 300) };
  } },
  { name: 'bad: truncated JSON', weight: 3, metered: true, run: (ctx) => post(ctx, '/v1/classify', '{"input": "a fine') },
  { name: 'bad: wrong type', weight: 3, metered: true, run: (ctx) => postJson(ctx, '/v1/chat/completions', { model: 'stories260K', messages: 'hi' }) },
  { name: 'bad: unknown model', weight: 2, metered: true, run: (ctx) => postJson(ctx, '/v1/classify', { model: 'gpt-9', input: 'x' }) },
  { name: 'bad: content type', weight: 2, metered: true, run: (ctx) => post(ctx, '/v1/classify', 'input=x', { authorization: `Bearer ${ctx.key}`, 'content-type': 'text/plain' }) },
  { name: 'bad: no key', weight: 3, metered: false, run: (ctx) => post(ctx, '/v1/classify', '{"input":"x"}', { 'content-type': 'application/json' }) },
  { name: 'healthz', weight: 3, metered: false, run: async (ctx) => ({ status: (await fetch(`${ctx.url}/healthz`, { signal: AbortSignal.timeout(REQUEST_LIMIT_MS) })).status }) },
];

export function kindPicker(next: () => number): () => Kind {
  const total = KINDS.reduce((sum, k) => sum + k.weight, 0);
  return () => {
    let at = next() * total;
    for (const kind of KINDS) {
      at -= kind.weight;
      if (at < 0) return kind;
    }
    return KINDS.at(-1)!;
  };
}

/** mulberry32: the same mix in every run. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
