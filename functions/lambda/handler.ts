/**
 * AWS Lambda entry (Function URL or API Gateway v2), buffered: the same app through hono/aws-lambda. Models load
 * once per execution environment, on the first invocation, and stay warm for the next ones.
 */
import { handle, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import { lambdaApp } from './lambda-app.js';

export async function handler(event: LambdaEvent, context: LambdaContext) {
  return handle(await lambdaApp())(event, context);
}
