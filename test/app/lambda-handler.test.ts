import { describe, expect, it } from 'vitest';
import { handler } from '../../functions/lambda/handler.js';
import { functionUrlEvent, lambdaContext as context } from './lambda-events.js';

describe('the Lambda handler', () => {
  it('classifies through a Function URL event', async () => {
    const event = functionUrlEvent('POST', '/v1/classify', JSON.stringify({ input: 'a wonderful , heartfelt film .' }), { 'content-type': 'application/json' });
    const result = (await handler(event, context)) as { statusCode: number; body: string; headers: Record<string, string> };
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body).results[0][0].label).toBe('POSITIVE');
    expect(result.headers['x-request-id']).toBeTruthy();
  });

  it('answers bad input with the same JSON errors as every runtime', async () => {
    const result = (await handler(functionUrlEvent('POST', '/v1/classify', '{oops', { 'content-type': 'application/json' }), context)) as { statusCode: number; body: string };
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).error.code).toBe('invalid_json');
  });
});
