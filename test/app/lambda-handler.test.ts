import { describe, expect, it } from 'vitest';
import type { LambdaContext, LambdaEvent } from 'hono/aws-lambda';
import { handler } from '../../functions/lambda/handler.js';

/** A Lambda Function URL event (payload format 2.0, as API Gateway v2 sends it). */
function functionUrlEvent(method: string, path: string, body?: string, headers: Record<string, string> = {}): LambdaEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'abc123.lambda-url.eu-west-1.on.aws', 'x-forwarded-proto': 'https', ...headers },
    requestContext: {
      accountId: 'anonymous', apiId: 'abc123', domainName: 'abc123.lambda-url.eu-west-1.on.aws', domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'lambda-req-1', routeKey: '$default', stage: '$default', time: '29/Nov/2026:00:00:00 +0000', timeEpoch: 1795910400000,
    },
    body,
    isBase64Encoded: false,
  } as unknown as LambdaEvent;
}

const context = { awsRequestId: 'lambda-req-1' } as unknown as LambdaContext;

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
