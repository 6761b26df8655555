/**
 * The production Lambda entry (functions/lambda/stream-handler.ts: a Function URL in RESPONSE_STREAM mode) through
 * Hono's real streamHandle, on a harness of Lambda's streaming runtime, with keys and usage in DynamoDB (dynalite):
 * a streamed generation reaches the client in many writes, and its usage record, with the tokens the client was
 * sent, is in DynamoDB when the response stream ends (after that, Lambda may freeze the environment).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoBillingStore } from '../../functions/billing/dynamo/dynamo-billing-store.js';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import { priceOf } from '../billing/prices.js';
import { eventually } from '../helpers/eventually.js';
import { dynamoWriteLog, type DynamoWriteLog } from './dynamo-write-log.js';
import { useLambdaBackends } from './lambda-backends.js';
import { functionUrlEvent, lambdaContext } from './lambda-events.js';
import { installLambdaStreamingRuntime, invokeStreaming, type StreamedInvocation } from './lambda-stream-runtime.js';

const ADMIN_TOKEN = 'lambda-stream-admin';
let log: DynamoWriteLog;
// The router writes through the log; the test reads DynamoDB directly.
const lambda = useLambdaBackends(ADMIN_TOKEN, async (endpoint) => (log = await dynamoWriteLog(endpoint)));
let handler: unknown;
let store: DynamoBillingStore;

beforeAll(async () => {
  store = new DynamoBillingStore(lambda.dynamo.client, lambda.dynamo.tables);
  installLambdaStreamingRuntime();
  ({ handler } = await import('../../functions/lambda/stream-handler.js'));
});

/** One invocation; `atEnd` is the moment its response stream ended. */
const invoke = (method: string, path: string, body: unknown, headers: Record<string, string>): Promise<StreamedInvocation> =>
  invokeStreaming(handler, functionUrlEvent(method, path, body === undefined ? undefined : JSON.stringify(body), { 'content-type': 'application/json', ...headers }), lambdaContext,
    async () => performance.now());

/** When DynamoDB answered the write that carried this request's usage record (waits for it to happen at all). */
const usageWrittenAt = async (requestId: string) =>
  (await eventually(() => log.calls.find((c) => /Write|Put/.test(c.operation) && c.body.includes(`"${requestId}"`)), (c) => c !== undefined))!.answeredAt;

const usageOf = async (tenant: string) => store.usageRecords({ from: 0, to: Date.now() + 1, tenantId: tenant });

async function newKey(tenant: string): Promise<string> {
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  expect((await invoke('POST', '/admin/tenants', { id: tenant }, admin)).statusCode).toBe(201);
  const created = await invoke('POST', '/admin/keys', { tenant }, admin);
  expect(created.statusCode).toBe(201);
  return (JSON.parse(created.body) as { key: string }).key;
}

type Chunk = { choices: { delta?: { content?: string } }[]; usage?: { prompt_tokens: number; completion_tokens: number } | null };
const events = (body: string) => body.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as Chunk);

describe('the streaming Lambda entry (RESPONSE_STREAM)', () => {
  it('streams a generation and has written its usage, with the tokens sent, when the stream ends', async () => {
    const key = await newKey('stream_gen');
    const answer = await invoke('POST', '/v1/chat/completions', {
      model: 'tiny-stories', messages: [{ role: 'user', content: 'Once upon a time' }], stream: true, max_tokens: 12, temperature: 0, stream_options: { include_usage: true },
    }, { authorization: `Bearer ${key}`, 'x-request-id': 'stream-gen-1' });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/event-stream/);
    const chunks = events(answer.body);
    expect(answer.body.trim().endsWith('data: [DONE]')).toBe(true);
    expect(answer.bodyWrites).toBeGreaterThan(2); // token by token, not one buffered body
    const sent = chunks.findLast((c) => c.usage)!.usage!;
    expect(sent.completion_tokens).toBe(12);
    expect(chunks.filter((c) => c.choices[0]?.delta?.content).length).toBeGreaterThan(1);

    expect(await usageWrittenAt('stream-gen-1')).toBeLessThan(answer.atEnd as number);
    const records = await usageOf('stream_gen');
    expect(records).toHaveLength(1);
    const price = (await readLocalRegistry()).resolve('stories260K')!.price;
    expect(records[0]).toMatchObject({
      requestId: 'stream-gen-1', route: 'POST /v1/chat/completions', path: 'gpu', model: 'stories260K', status: 200,
      inputTokens: sent.prompt_tokens, outputTokens: sent.completion_tokens, costMicroUsd: priceOf(price, sent.prompt_tokens, sent.completion_tokens),
    });
  }, 60_000);

  it('has written a classification\'s usage when its response ends', async () => {
    const key = await newKey('stream_cls');
    const answer = await invoke('POST', '/v1/classify', { input: 'a wonderful , heartfelt film .' }, { authorization: `Bearer ${key}`, 'x-request-id': 'stream-cls-1' });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['x-request-id']).toBe('stream-cls-1');
    const body = JSON.parse(answer.body) as { results: { label: string }[][]; usage: { input_tokens: number } };
    expect(body.results[0]![0]!.label).toBe('POSITIVE');
    // A classification is recorded with its admission: the UpdateItem of the key's minute item that takes its rate
    // limit carries its record (the group's sums), long before the response ends.
    const records = await usageOf('stream_cls');
    const recordedAt = log.calls.find((c) => c.operation === 'UpdateItem' && c.body.includes(`ru#${records[0]?.keyId}#`) && c.body.includes('sst2-glove-bilstm'))?.answeredAt;
    expect(recordedAt).toBeLessThan(answer.atEnd as number);
    const price = (await readLocalRegistry()).resolve('sentiment')!.price;
    expect(records).toEqual([expect.objectContaining({
      requestId: 'roll-up', requests: 1, model: 'sst2-glove-bilstm', status: 200, inputTokens: body.usage.input_tokens, costMicroUsd: priceOf(price, body.usage.input_tokens, 0),
    })]);
  }, 60_000);

  it('refuses a request without a key in the JSON error shape, and meters nothing for it', async () => {
    const answer = await invoke('POST', '/v1/classify', { input: 'x' }, {});
    expect(answer.statusCode).toBe(401);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect((JSON.parse(answer.body) as { error: { code: string } }).error.code).toBe('missing_api_key');
  });
});
