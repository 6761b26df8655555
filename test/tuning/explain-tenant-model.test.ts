// A fine-tuned tenant model explains too: the real Node server in keys mode trains a head on SST-2 train rows over
// the real electra-imdb-small encoder (Files and jobs API, the worker-thread trainer), then its owner asks for
// explanations on both classify routes; another tenant still gets the 404 of a model that does not exist.
import { beforeAll, describe, expect, it } from 'vitest';
import { useKeysServer } from '../billing/helpers.js';
import { jsonl, sst2Lines } from './routes-server.js';

interface Word { text: string; start: number; end: number; attribution: number }
interface Explanation { method: string; words: Word[]; truncated: boolean; explained_chars: number }
interface Scored { label: string; score: number; explanation?: Explanation }

const ctx = useKeysServer({ generation: false, fineTuning: { concurrency: 1 } });
const keys = {} as Record<'acme' | 'globex', string>;
let model: string;

async function call(key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${ctx.server.url}${path}`, {
    method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  keys.acme = (await ctx.admin.key('acme')).key;
  keys.globex = (await ctx.admin.key('globex')).key;
  const form = new FormData();
  form.append('purpose', 'fine-tune');
  form.append('file', new Blob([jsonl(await sst2Lines(64)) as BlobPart]), 'sst2-64.jsonl');
  const uploaded = await fetch(`${ctx.server.url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${keys.acme}` }, body: form });
  const file = await uploaded.json() as { id: string };
  expect(uploaded.status, JSON.stringify(file)).toBe(200);
  let job = (await call(keys.acme, 'POST', '/v1/fine_tuning/jobs', { model: 'electra-imdb-small', training_file: file.id, suffix: 'explain', seed: 3, hyperparameters: { n_epochs: 2 } })).body;
  const deadline = Date.now() + 90_000;
  while (!['succeeded', 'failed', 'cancelled'].includes(job.status) && Date.now() < deadline) {
    await new Promise((wait) => setTimeout(wait, 250));
    job = (await call(keys.acme, 'GET', `/v1/fine_tuning/jobs/${job.id}`)).body;
  }
  expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
  model = job.fine_tuned_model;
}, 120_000);

const SEPARATOR = '\\s\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';

/** Every word of the text, in order, at the caller's offsets; between them only blanks and punctuation. */
function expectCoversWords(text: string, { words, explained_chars }: Explanation) {
  let at = 0;
  for (const word of words) {
    expect(text.slice(word.start, word.end)).toBe(word.text);
    expect(word.text).toMatch(new RegExp(`^[^${SEPARATOR}]+$`, 'u'));
    expect(text.slice(at, word.start)).toMatch(new RegExp(`^[${SEPARATOR}]${at > 0 ? '+' : '*'}$`, 'u'));
    at = word.end;
  }
  expect(text.slice(at)).toMatch(new RegExp(`^[${SEPARATOR}]*$`, 'u'));
  expect(explained_chars).toBe(text.length);
}

const scoreOf = (scores: Scored[], label: string) => scores.find((s) => s.label === label)!.score;

describe("a tenant model's explanations", () => {
  const texts = ['a gorgeous , witty , seductive movie .', 'A DULL, lifeless mess — it’s dreadful!'];

  it('explain the top label over every word, each attribution the score less the score without that word', async () => {
    const { status, body } = await call(keys.acme, 'POST', '/v1/classify', { model, input: texts, explain: true });
    expect(status).toBe(200);
    expect(body.model).toBe(model);
    const results = body.results as Scored[][];
    expect(body.usage.explanation_tokens).toBeGreaterThan(0);
    const variants = results.map((scores, i) => {
      expect(scores.map((s) => s.label).sort()).toEqual(['negative', 'positive']);
      const explanation = scores[0]!.explanation!;
      expect(explanation).toMatchObject({ method: 'occlusion', truncated: false });
      expectCoversWords(texts[i]!, explanation);
      expect(scores[1]).not.toHaveProperty('explanation');
      return explanation.words.map((w) => texts[i]!.slice(0, w.start) + texts[i]!.slice(w.end));
    });
    // The same texts in the same order without explain: the encoder's batch the explained request ran.
    const replay = (await call(keys.acme, 'POST', '/v1/classify', { model, input: [...texts, ...variants.flat()] })).body.results as Scored[][];
    let next = texts.length;
    results.forEach((scores, i) => {
      const label = scores[0]!.label;
      scores[0]!.explanation!.words.forEach((word, w) => {
        expect(word.attribution).toBeCloseTo(scoreOf(replay[i]!, label) - scoreOf(replay[next + w]!, label), 9);
      });
      next += variants[i]!.length;
    });
  });

  it('explain every word of a text past 128 tokens: the encoder reads it whole, in windows', async () => {
    const text = `a gorgeous , witty film ${'. '.repeat(130)}but a dull ending`;
    const plain = (await call(keys.acme, 'POST', '/v1/classify', { model, input: text })).body;
    expect(plain.truncated).toEqual([false]);
    expect(plain.usage.input_tokens).toBeGreaterThan(128);
    const { status, body } = await call(keys.acme, 'POST', `/models/${encodeURIComponent(model)}`, { inputs: text, parameters: { explain: { labels: 'all' } } });
    expect(status).toBe(200);
    const [scores] = body as Scored[][];
    expect(scores).toHaveLength(2);
    for (const { explanation } of scores!) {
      expectCoversWords(text, explanation!);
      expect(explanation!.words.map((w) => w.text)).toEqual(['a', 'gorgeous', 'witty', 'film', 'but', 'a', 'dull', 'ending']);
    }
  });

  it('reserve what the encoder reads over all its windows, so a budget is never overspent by a long text', async () => {
    const listed = (await call(keys.acme, 'GET', '/v1/models')).body.data as { id: string; price: { request_micro_usd: number; input_token_micro_usd: number } }[];
    const { price } = listed.find((m) => m.id === model)!;
    const long = 'good '.repeat(3_000).trim(); // about 3,000 tokens in 24 windows, far past the entry's 128
    const costOf = (tokens: number) => price.request_micro_usd + tokens * price.input_token_micro_usd;
    const budget = Math.floor(costOf(1_500));
    const { key } = await ctx.admin.key('acme', { monthly_budget_micro_usd: budget });
    const refused = await call(key, 'POST', '/v1/classify', { model, input: long });
    expect(refused.status, JSON.stringify(refused.body)).toBe(402);
    const served = await call(key, 'POST', '/v1/classify', { model, input: long.slice(0, 5 * 1_000) });
    expect(served.status).toBe(200);
    expect(costOf(served.body.usage.input_tokens)).toBeLessThanOrEqual(budget);
  });

  it('are its owner\'s alone: another tenant gets 404 model_not_found on both routes, explain or not', async () => {
    for (const [path, body] of [
      ['/v1/classify', { model, input: 'a fine film', explain: true }],
      [`/models/${encodeURIComponent(model)}`, { inputs: 'a fine film', parameters: { explain: true } }],
      ['/v1/classify', { model, input: 'a fine film' }],
    ] as const) {
      const answer = await call(keys.globex, 'POST', path, body);
      expect(answer.status, path).toBe(404);
      expect(answer.body).toMatchObject({ error: { code: 'model_not_found', param: 'model' } });
    }
  });
});
