/**
 * The AWS router with its DynamoDB billing, end to end: an operator creates a key with `npm run keys` against the
 * tables (the CLI picks DynamoDB from BILLING_TABLE and USAGE_TABLE), the Lambda handler requires it, limits it
 * across invocations, and every answered request's usage record is in DynamoDB when the invocation returns.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoBillingStore } from '../../functions/billing/dynamo/dynamo-billing-store.js';
import { monthStart } from '../../functions/billing/month.js';
import { eventually } from '../helpers/eventually.js';
import { repoRoot } from '../paths.js';
import { useLambdaBackends } from './lambda-backends.js';
import { functionUrlEvent, lambdaContext, type BufferedResult } from './lambda-events.js';

const ADMIN_TOKEN = 'lambda-billing-admin';
const lambda = useLambdaBackends(ADMIN_TOKEN);
let handler: typeof import('../../functions/lambda/handler.js').handler;

async function keys(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'functions/node/keys-cli.ts', ...args], { cwd: repoRoot, env: { ...process.env, ...lambda.env } });
  return JSON.parse(stdout) as Record<string, unknown>;
}

const classify = async (key: string | null, input = 'a wonderful , heartfelt film .') =>
  (await handler(functionUrlEvent('POST', '/v1/classify', JSON.stringify({ input }), {
    'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}),
  }), lambdaContext)) as BufferedResult;

beforeAll(async () => {
  ({ handler } = await import('../../functions/lambda/handler.js'));
});

/** A tenant of its own and a key for it through the admin API (each test makes what it needs). */
async function adminKey(tenant: string, limits: Record<string, unknown> = {}): Promise<{ key: string; id: string }> {
  const call = async (path: string, body: unknown) =>
    (await handler(functionUrlEvent('POST', `/admin${path}`, JSON.stringify(body), { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }), lambdaContext)) as BufferedResult;
  expect((await call('/tenants', { id: tenant })).statusCode).toBe(201);
  const created = await call('/keys', { tenant, ...limits });
  expect(created.statusCode).toBe(201);
  return JSON.parse(created.body) as { key: string; id: string };
}

const usageOf = (tenant: string) => new DynamoBillingStore(lambda.dynamo.client, lambda.dynamo.tables).usageRecords({ from: 0, to: Date.now() + 1, tenantId: tenant });

describe('the Lambda router with DynamoDB billing', () => {
  it('accepts a key made with npm run keys against the tables, and refuses requests without one', async () => {
    await keys('tenant', 'acme');
    const { key } = (await keys('create', '--tenant', 'acme', '--rpm', '3')) as { key: string };
    expect((await classify(null)).statusCode).toBe(401);
    const ok = await classify(key);
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body).results[0][0].label).toBe('POSITIVE');
    expect(ok.headers['x-ratelimit-limit-requests']).toBe('3');
  }, 60_000);

  it('has written each request\'s usage when the invocation returns', async () => {
    const { key, id } = await adminKey('written');
    const answered = await classify(key, 'a dull , lifeless film .');
    expect(answered.statusCode).toBe(200);
    const records = await usageOf('written');
    // A classification is recorded with its admission, in the key's minute roll-up (one write): its id is the
    // roll-up's group, stable across reads, and the roll-up sums this one request.
    expect(records).toEqual([expect.objectContaining({ keyId: id, route: 'POST /v1/classify', model: 'sst2-glove-bilstm', status: 200, path: 'edge', requestId: 'roll-up', requests: 1 })]);
    expect(records[0]!.id).toMatch(new RegExp(`^ru\\.${id}\\.\\d+\\.[0-9a-f]{8}$`));
    expect((await usageOf('written'))[0]!.id).toBe(records[0]!.id);
    expect(await new DynamoBillingStore(lambda.dynamo.client, lambda.dynamo.tables).spentSince(id, monthStart(records[0]!.createdAt))).toBe(records[0]!.costMicroUsd);
  }, 60_000);

  it('meters a streamed generation with the tokens it sent, written when the invocation returns', async () => {
    const { key, id } = await adminKey('streamed');
    const streamed = (await handler(functionUrlEvent('POST', '/v1/chat/completions', JSON.stringify({
      model: 'tiny-stories', messages: [{ role: 'user', content: 'Once upon a time' }], stream: true, max_tokens: 12, temperature: 0, stream_options: { include_usage: true },
    }), { 'content-type': 'application/json', authorization: `Bearer ${key}` }), lambdaContext)) as BufferedResult;
    expect(streamed.statusCode).toBe(200);
    // hono/aws-lambda's buffered handler sends text/event-stream base64-encoded.
    const text = streamed.isBase64Encoded ? Buffer.from(streamed.body, 'base64').toString() : streamed.body;
    const chunks = text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { choices: { delta?: { content?: string } }[]; usage?: { prompt_tokens: number; completion_tokens: number } | null });
    expect(chunks.some((c) => c.choices[0]?.delta?.content)).toBe(true);
    const sent = chunks.findLast((c) => c.usage)!.usage!;
    const [record] = await usageOf('streamed');
    expect(record).toMatchObject({ keyId: id, route: 'POST /v1/chat/completions', path: 'gpu', model: 'stories260K', status: 200, inputTokens: sent.prompt_tokens, outputTokens: sent.completion_tokens });
    expect(sent.completion_tokens).toBe(12);
  }, 60_000);

  it('limits the key across invocations, and disabling it with the CLI takes effect', async () => {
    await keys('tenant', 'limited');
    const { key, id } = (await keys('create', '--tenant', 'limited', '--rpm', '2')) as { key: string; id: string };
    expect([(await classify(key)).statusCode, (await classify(key)).statusCode]).toEqual([200, 200]);
    const third = await classify(key);
    expect(third.statusCode).toBe(429);
    expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    await keys('disable', id);
    // The router caches keys for about 2 s: the disabled key is refused once its entry expires.
    expect(await eventually(async () => (await classify(key)).statusCode, (s) => s === 403, 10_000, 200)).toBe(403);
  }, 30_000);
});
