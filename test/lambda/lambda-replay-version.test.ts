/**
 * An Idempotency-Key replay through the Lambda handler, its kept answer in DynamoDB (dynalite): it names the version
 * that answered, as the first answer did (the header is kept beside the content type in the item's contentType).
 */
import { describe, expect, it } from 'vitest';
import { useLambdaBackends } from '../app/lambda-backends.js';
import { functionUrlEvent, lambdaContext, type BufferedResult } from '../app/lambda-events.js';

const ADMIN_TOKEN = 'lambda-replay-admin';
useLambdaBackends(ADMIN_TOKEN);

describe('an Idempotency-Key replay on Lambda', () => {
  it('answers the first answer\'s x-edge-maas-model-version and content type', async () => {
    const { handler } = await import('../../functions/lambda/handler.js');
    const invoke = async (method: string, path: string, body: unknown, headers: Record<string, string>) =>
      (await handler(functionUrlEvent(method, path, JSON.stringify(body), { 'content-type': 'application/json', ...headers }), lambdaContext)) as BufferedResult;
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    expect((await invoke('POST', '/admin/tenants', { id: 'lambda_replay' }, admin)).statusCode).toBe(201);
    const { key } = JSON.parse((await invoke('POST', '/admin/keys', { tenant: 'lambda_replay' }, admin)).body) as { key: string };
    const headers = { authorization: `Bearer ${key}`, 'idempotency-key': 'lambda-replay-1' };
    const first = await invoke('POST', '/v1/classify', { input: 'a fine film' }, headers);
    const again = await invoke('POST', '/v1/classify', { input: 'a fine film' }, headers);
    expect([first.statusCode, again.statusCode]).toEqual([200, 200]);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['x-edge-maas-model-version']).toMatch(/^[\w.-]+@\w+$/);
    expect(again.headers['x-edge-maas-model-version']).toBe(first.headers['x-edge-maas-model-version']);
    expect(again.headers['content-type']).toBe(first.headers['content-type']);
    expect(again.body).toBe(first.body);
  }, 60_000);
});
