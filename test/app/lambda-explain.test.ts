/**
 * Explanations through the Lambda handler (Function URL events), with its DynamoDB billing: SST-2 sentences and one
 * written as a caller might, each attribution checked against a plain request of the texts and their one-word-deleted
 * variants built here from the answer's offsets (the same texts in the same order run as the same batch), and the
 * usage record's input tokens those of the answer, explanation tokens included.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoBillingStore } from '../../functions/billing/dynamo/dynamo-billing-store.js';
import { devTsv } from '../paths.js';
import { useLambdaBackends } from './lambda-backends.js';
import { functionUrlEvent, lambdaContext, type BufferedResult } from './lambda-events.js';

type Word = { text: string; start: number; end: number; attribution: number };
type Explanation = { method: string; words: Word[]; truncated: boolean; explained_chars: number };
type Scored = { label: string; score: number; explanation?: Explanation };
type Classified = { results: Scored[][]; usage: { input_tokens: number; texts: number; explanation_tokens?: number } };

const ADMIN_TOKEN = 'lambda-explain-admin';
const lambda = useLambdaBackends(ADMIN_TOKEN);
let handler: typeof import('../../functions/lambda/handler.js').handler;
let key = '';

const SST2 = readFileSync(devTsv, 'utf8').trim().split('\n').slice(1).map((line) => line.split('\t')[0]!.trim());
// Short enough that the texts and all their variants fit one plain request (the model's max_batch is 64).
const CALLER_TEXT = 'Naïve,  but “charming”: a café-set film 😀 !';
const TEXTS = [...SST2.filter((s) => s.split(' ').length <= 10).slice(3, 6), CALLER_TEXT];

const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => (await handler(functionUrlEvent('POST', path, JSON.stringify(body), {
  'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers,
}), lambdaContext)) as BufferedResult;
const classify = async (body: unknown) => {
  const result = await post('/v1/classify', body);
  expect(result.statusCode).toBe(200);
  return { body: JSON.parse(result.body) as Classified, requestId: result.headers['x-request-id']! };
};

const withoutWord = (text: string, word: Word) => text.slice(0, word.start) + text.slice(word.end);
const scoreOf = (ranked: Scored[], label: string) => ranked.find((s) => s.label === label)!.score;

beforeAll(async () => {
  ({ handler } = await import('../../functions/lambda/handler.js'));
  expect((await post('/admin/tenants', { id: 'explained' }, { authorization: `Bearer ${ADMIN_TOKEN}` })).statusCode).toBe(201);
  const created = await post('/admin/keys', { tenant: 'explained' }, { authorization: `Bearer ${ADMIN_TOKEN}` });
  expect(created.statusCode).toBe(201);
  key = (JSON.parse(created.body) as { key: string }).key;
});

describe('explanations through the Lambda handler', () => {
  it('explains each top label with offsets into the caller\'s text, each attribution the score a deleted word takes away', async () => {
    const sent = Date.now();
    const { body: explained, requestId } = await classify({ input: TEXTS, explain: true });
    expect(explained.results).toHaveLength(TEXTS.length);
    expect(explained.results[TEXTS.indexOf(CALLER_TEXT)]![0]!.explanation!.words.map((w) => w.text))
      .toEqual(['Naïve', 'but', 'charming', 'a', 'café', 'set', 'film', '😀']);

    const variants = TEXTS.flatMap((text, i) => explained.results[i]![0]!.explanation!.words.map((w) => withoutWord(text, w)));
    expect(TEXTS.length + variants.length).toBeLessThanOrEqual(64);
    const { body: plain } = await classify({ input: [...TEXTS, ...variants] });
    const { body: alone } = await classify({ input: TEXTS });
    let next = TEXTS.length;
    for (const [i, text] of TEXTS.entries()) {
      const [top, ...rest] = explained.results[i]!;
      const { words, ...about } = top!.explanation!;
      expect(about).toEqual({ method: 'occlusion', truncated: false, explained_chars: text.length });
      expect(rest.every((s) => s.explanation === undefined)).toBe(true);
      expect(top!.label).toBe(alone.results[i]![0]!.label);
      let end = 0;
      for (const word of words) {
        expect(text.slice(word.start, word.end)).toBe(word.text);
        expect(text.slice(end, word.start)).not.toMatch(/[\p{L}\p{N}]/u); // no letter or digit left out of the words
        end = word.end;
        expect(Number.isFinite(word.attribution)).toBe(true);
        const deleted = scoreOf(plain.results[next++]!, top!.label);
        expect(Math.abs(word.attribution - (scoreOf(plain.results[i]!, top!.label) - deleted))).toBeLessThan(1e-4);
      }
      expect(text.slice(end)).not.toMatch(/[\p{L}\p{N}]/u);
      expect(words.some((w) => Math.abs(w.attribution) > 1e-4)).toBe(true);
    }

    expect(explained.usage.input_tokens).toBe(plain.usage.input_tokens);
    expect(explained.usage.explanation_tokens).toBe(plain.usage.input_tokens - alone.usage.input_tokens);
    const records = await new DynamoBillingStore(lambda.dynamo.client, lambda.dynamo.tables).usageRecords({ from: sent - (sent % 60_000), to: Date.now() + 1, tenantId: 'explained' }); // roll-ups are dated at their minute's start
    // Classifications are recorded in the key's minute roll-ups: the three requests' records sum their answers' tokens.
    expect(requestId).toBeTruthy();
    const recorded = records.filter((r) => r.route === 'POST /v1/classify' && r.status === 200).reduce((sum, r) => sum + r.inputTokens, 0);
    expect(recorded).toBe(explained.usage.input_tokens + plain.usage.input_tokens + alone.usage.input_tokens);
  }, 30_000);

  it('refuses 17 texts to explain with 400 explain_limit', async () => {
    const result = await post('/v1/classify', { input: Array(17).fill('a fine film'), explain: true });
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).error).toMatchObject({ code: 'explain_limit', param: 'input' });
  });
});
