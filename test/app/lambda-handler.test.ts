import { describe, expect, it } from 'vitest';
import { handler } from '../../functions/lambda/handler.js';
import { functionUrlEvent, lambdaContext as context } from './lambda-events.js';

describe('the Lambda handler', () => {
  const classify = async (headers: Record<string, string> = {}) => (await handler(
    functionUrlEvent('POST', '/v1/classify', JSON.stringify({ input: 'a wonderful , heartfelt film .' }), { 'content-type': 'application/json', ...headers }), context,
  )) as { statusCode: number; body: string; headers: Record<string, string> };

  it('classifies through a Function URL event and echoes the caller\'s x-request-id', async () => {
    const result = await classify({ 'x-request-id': 'lambda-client-7' });
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body).results[0][0].label).toBe('POSITIVE');
    expect(result.headers['x-request-id']).toBe('lambda-client-7');
  });

  it('gives a request without an x-request-id one of its own, new for each request', async () => {
    const [a, b] = [await classify(), await classify()];
    expect(a.headers['x-request-id']).toMatch(/^[\w-]{8,}$/);
    expect(b.headers['x-request-id']).not.toBe(a.headers['x-request-id']);
    expect(a.headers['x-request-id']).not.toBe(context.awsRequestId);
  });

  it('answers bad input with the same JSON errors as every runtime', async () => {
    const result = (await handler(functionUrlEvent('POST', '/v1/classify', '{oops', { 'content-type': 'application/json' }), context)) as { statusCode: number; body: string };
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).error.code).toBe('invalid_json');
  });
});
