import type { LambdaContext, LambdaEvent } from 'hono/aws-lambda';

/** A Lambda Function URL event (payload format 2.0, as API Gateway v2 sends it). */
export function functionUrlEvent(method: string, path: string, body?: string, headers: Record<string, string> = {}): LambdaEvent {
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

export const lambdaContext = { awsRequestId: 'lambda-req-1' } as unknown as LambdaContext;

export type BufferedResult = { statusCode: number; body: string; headers: Record<string, string>; isBase64Encoded?: boolean };
