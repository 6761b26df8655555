/**
 * AWS Lambda entry for Function URLs in RESPONSE_STREAM mode (the router on AWS): the same app through
 * hono/aws-lambda's streamHandle, so generation streams reach the client token by token. Only Lambda's Node.js
 * runtime provides `awslambda`, which streamHandle needs; functions/lambda/handler.ts is the buffered entry.
 */
import { Hono } from 'hono';
import { streamHandle } from 'hono/aws-lambda';
import { lambdaApp } from './lambda-app.js';

// streamHandle wraps an app at import time; this one hands each request to the app built on first use.
const lazy = new Hono();
lazy.all('*', async (c) => (await lambdaApp()).fetch(c.req.raw));

export const handler = streamHandle(lazy);
