/**
 * AWS Lambda entry (Function URL or API Gateway v2): the same app through hono/aws-lambda. Models load once per
 * execution environment, on the first invocation, and stay warm for the next ones.
 */
import { handle, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import { buildLocalApp } from '../node/server.js';

let ready: Promise<ReturnType<typeof handle>> | null = null;

export async function handler(event: LambdaEvent, context: LambdaContext) {
  ready ??= buildLocalApp().then(({ app }) => handle(app));
  return (await ready)(event, context);
}
