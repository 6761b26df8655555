/**
 * The AWS router with its DynamoDB billing, end to end: an operator creates a key with `npm run keys` against the
 * tables (the CLI picks DynamoDB from BILLING_TABLE and USAGE_TABLE), the Lambda handler requires it, limits it
 * across invocations, and every answered request's usage record is in DynamoDB when the invocation returns.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoBillingStore } from '../../functions/billing/dynamo/dynamo-billing-store.js';
import { startGenerationServer } from '../../functions/generation/server.js';
import { startLocalDynamo, type LocalDynamo } from '../billing/local-dynamodb.js';
import { repoRoot } from '../paths.js';
import { functionUrlEvent, lambdaContext, type BufferedResult } from './lambda-events.js';

let dynamo: LocalDynamo;
let generation: Awaited<ReturnType<typeof startGenerationServer>>;
let handler: typeof import('../../functions/lambda/handler.js').handler;
const env = () => ({ BILLING_TABLE: dynamo.tables.billing, USAGE_TABLE: dynamo.tables.usage, DYNAMODB_ENDPOINT: dynamo.endpoint, GENERATION_UPSTREAM_URL: generation.url });

async function keys(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'functions/node/keys-cli.ts', ...args], { cwd: repoRoot, env: { ...process.env, ...env() } });
  return JSON.parse(stdout) as Record<string, unknown>;
}

const classify = async (key: string | null, input = 'a wonderful , heartfelt film .') =>
  (await handler(functionUrlEvent('POST', '/v1/classify', JSON.stringify({ input }), {
    'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}),
  }), lambdaContext)) as BufferedResult;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  generation = await startGenerationServer({ port: 0 });
  Object.assign(process.env, env());
  ({ handler } = await import('../../functions/lambda/handler.js'));
}, 60_000);

afterAll(async () => {
  for (const name of Object.keys(env())) delete process.env[name];
  await generation?.close();
  await dynamo?.close();
});

describe('the Lambda router with DynamoDB billing', () => {
  let key: string;
  let keyId: string;

  it('accepts a key made with npm run keys against the tables, and refuses requests without one', async () => {
    await keys('tenant', 'acme');
    const created = await keys('create', '--tenant', 'acme', '--rpm', '3');
    [key, keyId] = [created.key as string, created.id as string];
    expect((await classify(null)).statusCode).toBe(401);
    const ok = await classify(key);
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body).results[0][0].label).toBe('POSITIVE');
    expect(ok.headers['x-ratelimit-limit-requests']).toBe('3');
  }, 60_000);

  it('has written each request\'s usage record when the invocation returns', async () => {
    const store = new DynamoBillingStore(dynamo.client, dynamo.tables);
    const month = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
    const thisMonth = () => store.usageRecords({ from: month, to: Date.now() + 1, tenantId: 'acme' });
    const before = (await thisMonth()).length;
    const answered = await classify(key, 'a dull , lifeless film .');
    expect(answered.statusCode).toBe(200);
    const records = await thisMonth();
    expect(records).toHaveLength(before + 1);
    expect(records.at(-1)).toMatchObject({ keyId, route: 'POST /v1/classify', model: 'sst2-bert', status: 200, path: 'edge' });
    expect(records.at(-1)!.requestId).toBe(answered.headers['x-request-id']);
    expect(await store.spentSince(keyId, month)).toBeGreaterThan(0);
  });

  it('meters a streamed generation with the tokens it sent, written when the invocation returns', async () => {
    const { key: genKey, id: genKeyId } = (await keys('create', '--tenant', 'acme')) as { key: string; id: string };
    const streamed = (await handler(functionUrlEvent('POST', '/v1/chat/completions', JSON.stringify({
      model: 'tiny-stories', messages: [{ role: 'user', content: 'Once upon a time' }], stream: true, max_tokens: 12, temperature: 0,
    }), { 'content-type': 'application/json', authorization: `Bearer ${genKey}` }), lambdaContext)) as BufferedResult;
    expect(streamed.statusCode).toBe(200);
    // hono/aws-lambda's buffered handler sends text/event-stream base64-encoded.
    const text = streamed.isBase64Encoded ? Buffer.from(streamed.body, 'base64').toString() : streamed.body;
    const chunks = text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { choices: { delta: { content?: string } }[] });
    expect(chunks.some((c) => c.choices[0]?.delta.content)).toBe(true);
    const store = new DynamoBillingStore(dynamo.client, dynamo.tables);
    const month = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
    const [record] = (await store.usageRecords({ from: month, to: Date.now() + 1, tenantId: 'acme' })).filter((r) => r.keyId === genKeyId);
    expect(record).toMatchObject({ route: 'POST /v1/chat/completions', path: 'gpu', model: 'stories260K', status: 200, outputTokens: 12 });
    expect(record!.inputTokens).toBeGreaterThan(0);
  }, 60_000);

  it('limits the key across invocations, and disabling it with the CLI takes effect', async () => {
    const third = await classify(key);
    expect(third.statusCode).toBe(200);
    const fourth = await classify(key);
    expect(fourth.statusCode).toBe(429);
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    await keys('disable', keyId);
    await new Promise((resolve) => setTimeout(resolve, 2_100)); // the router's key cache
    expect((await classify(key)).statusCode).toBe(403);
  }, 30_000);
});
