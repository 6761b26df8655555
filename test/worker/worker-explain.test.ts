// Explanations inside workerd: the Worker of wrangler.toml explains SST-2 sentences (and one as a caller might write
// it) with its bundled int8 model on onnxruntime-web. Each attribution is checked against a plain request of the
// texts and their one-word-deleted variants, built here from the answer's offsets; in workerd each request's texts
// run as their own batch, so the same texts in the same order give the same session.runs and the same scores.
import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { keyIdOf, meteredAfter, meteredUsage } from './key-usage.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { costMicroUsd } from '../../functions/registry/pricing.js';

type Word = { text: string; start: number; end: number; attribution: number };
type Explanation = { method: string; words: Word[]; truncated: boolean; explained_chars: number };
type Scored = { label: string; score: number; explanation?: Explanation };
type Classified = { results: Scored[][]; truncated: boolean[]; usage: { input_tokens: number; texts: number; explanation_tokens?: number } };

const SST2 = (env as { TEST_SST2: { text: string }[] }).TEST_SST2;
const ADMIN = { authorization: 'Bearer worker-test-admin' };
let key = '';

const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) => exports.default.fetch(new Request(`http://edge.test${path}`, {
  method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, body: JSON.stringify(body),
}));

// Short enough that the texts and all their variants fit one plain request (the model's max_batch is 64).
const CALLER_TEXT = 'Naïve,  but “charming”: a café-set film 😀 !';
const TEXTS = [...SST2.filter((s) => s.text.split(' ').length <= 10).slice(0, 3).map((s) => s.text), CALLER_TEXT];

const withoutWord = (text: string, word: Word) => text.slice(0, word.start) + text.slice(word.end);
const scoreOf = (ranked: Scored[], label: string) => ranked.find((s) => s.label === label)!.score;

/** The words are the caller's own characters, in order, and every letter or digit of the text is in one of them. */
function expectWordsOf(text: string, explanation: Explanation) {
  expect(explanation).toMatchObject({ method: 'occlusion', truncated: false, explained_chars: text.length });
  expect(explanation.words.length).toBeGreaterThan(0);
  let end = 0;
  for (const word of explanation.words) {
    expect(text.slice(word.start, word.end)).toBe(word.text);
    expect(word.start).toBeGreaterThanOrEqual(end);
    expect(text.slice(end, word.start)).not.toMatch(/[\p{L}\p{N}]/u);
    expect(Number.isFinite(word.attribution)).toBe(true);
    end = word.end;
  }
  expect(text.slice(end)).not.toMatch(/[\p{L}\p{N}]/u);
  expect(explanation.words.some((w) => Math.abs(w.attribution) > 1e-4)).toBe(true);
}

beforeAll(async () => {
  expect((await postJson('/admin/tenants', { id: 'edge_explain' }, ADMIN)).status).toBe(201);
  const created = await postJson('/admin/keys', { tenant: 'edge_explain', rpm: 1000 }, ADMIN);
  expect(created.status).toBe(201);
  key = ((await created.json()) as { key: string }).key;
});

describe('explanations in the Worker', () => {
  it('explains each top label with offsets into the caller\'s text, each attribution the score a deleted word takes away, metered in D1', async () => {
    const keyId = await keyIdOf(key);
    const before = await meteredUsage(keyId);
    const answered = await postJson('/v1/classify', { input: TEXTS, explain: true }, { 'x-request-id': 'edge-explain-1' });
    expect(answered.status).toBe(200);
    const explained = (await answered.json()) as Classified;
    const metered = await meteredAfter(keyId, before); // its record, before the key's next requests
    expect(explained.results).toHaveLength(TEXTS.length);
    expect(explained.results.find((_, i) => TEXTS[i] === CALLER_TEXT)![0]!.explanation!.words.map((w) => w.text))
      .toEqual(['Naïve', 'but', 'charming', 'a', 'café', 'set', 'film', '😀']);

    const variants = TEXTS.flatMap((text, i) => explained.results[i]![0]!.explanation!.words.map((w) => withoutWord(text, w)));
    expect(TEXTS.length + variants.length).toBeLessThanOrEqual(64);
    const plain = (await (await postJson('/v1/classify', { input: [...TEXTS, ...variants] })).json()) as Classified;
    const alone = (await (await postJson('/v1/classify', { input: TEXTS })).json()) as Classified;
    let next = TEXTS.length;
    for (const [i, text] of TEXTS.entries()) {
      const [top, ...rest] = explained.results[i]!;
      expectWordsOf(text, top!.explanation!);
      expect(rest.every((s) => s.explanation === undefined)).toBe(true);
      expect(top!.label).toBe(alone.results[i]![0]!.label);
      expect(top!.score).toBeCloseTo(scoreOf(plain.results[i]!, top!.label), 5);
      for (const word of top!.explanation!.words) {
        const deleted = scoreOf(plain.results[next++]!, top!.label);
        expect(Math.abs(word.attribution - (top!.score - deleted))).toBeLessThan(1e-4);
      }
    }

    expect(explained.usage.input_tokens).toBe(plain.usage.input_tokens);
    expect(explained.usage.explanation_tokens).toBe(plain.usage.input_tokens - alone.usage.input_tokens);
    expect(explained.usage.texts).toBe(TEXTS.length);
    expect(metered).toMatchObject({ requests: 1, inputTokens: explained.usage.input_tokens });
    const card = (await (await exports.default.fetch(new Request('http://edge.test/v1/models/sentiment', { headers: { authorization: `Bearer ${key}` } }))).json()) as {
      price: { request_micro_usd: number; input_token_micro_usd: number; output_token_micro_usd: number };
    };
    const price = { requestMicroUsd: card.price.request_micro_usd, inputTokenMicroUsd: card.price.input_token_micro_usd, outputTokenMicroUsd: card.price.output_token_micro_usd };
    expect(metered.costMicroUsd).toBeCloseTo(costMicroUsd(price, explained.usage.input_tokens, 0), 9);
  });

  it('explains every label on POST /models/{id} with parameters.explain: with two labels under softmax, opposite attributions', async () => {
    const text = TEXTS[0]!;
    const res = await postJson('/models/sentiment', { inputs: text, parameters: { explain: { labels: 'all' } } });
    expect(res.status).toBe(200);
    const [ranked] = (await res.json()) as Scored[][];
    expect(ranked!.map((s) => s.label).sort()).toEqual(['NEGATIVE', 'POSITIVE']);
    const [first, second] = ranked!.map((s) => s.explanation!);
    expectWordsOf(text, first!);
    expectWordsOf(text, second!);
    first!.words.forEach((w, i) => expect(w.attribution + second!.words[i]!.attribution).toBeCloseTo(0, 5));
    const plain = (await (await postJson('/models/sentiment', { inputs: [text, ...first!.words.map((w) => withoutWord(text, w))] })).json()) as Scored[][];
    first!.words.forEach((w, i) => expect(Math.abs(w.attribution - (scoreOf(plain[0]!, ranked![0]!.label) - scoreOf(plain[i + 1]!, ranked![0]!.label)))).toBeLessThan(1e-4));
  });

  it.each<[string, string, unknown, string, string]>([
    ['an explain that is not a boolean or an object', '/v1/classify', { input: 'a fine film', explain: 'yes' }, 'explain', 'invalid_request'],
    ['17 texts to explain', '/v1/classify', { input: Array(17).fill('a fine film'), explain: true }, 'input', 'explain_limit'],
    ['640 words to explain', '/v1/classify', { input: Array(16).fill(Array(40).fill('good').join(' ')), explain: true }, 'input', 'explain_limit'],
    ['17 inputs on the Hugging Face route', '/models/sentiment', { inputs: Array(17).fill('a fine film'), parameters: { explain: true } }, 'inputs', 'explain_limit'],
  ])('refuses %s with a 400 naming the field', async (_name, path, body, param, code) => {
    const res = await postJson(path, body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string; code: string } }).error).toMatchObject({ param, code });
  });
});
