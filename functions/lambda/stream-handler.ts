/**
 * AWS Lambda entry for Function URLs in RESPONSE_STREAM mode (the router on AWS): the same app through
 * hono/aws-lambda's streamHandle, so generation streams reach the client token by token. Models load on the
 * first invocation of an execution environment. Only Lambda's Node.js runtime provides `awslambda`, which
 * streamHandle needs; functions/lambda/handler.ts is the buffered entry for API Gateway and tests.
 */
import { Hono } from 'hono';
import { streamHandle } from 'hono/aws-lambda';
import { buildLocalApp, readLocalRegistry } from '../node/server.js';

let app: Promise<Hono> | null = null;

async function build(): Promise<Hono> {
  let registry = await readLocalRegistry();
  if (process.env.GENERATION_UPSTREAM_URL) registry = registry.withEmbeddedUpstream(process.env.GENERATION_UPSTREAM_URL);
  return (await buildLocalApp('wasm', true, registry)).app;
}

const lazy = new Hono();
lazy.all('*', async (c) => {
  app ??= build().catch((error: unknown) => {
    app = null;
    throw error;
  });
  return (await app).fetch(c.req.raw);
});

export const handler = streamHandle(lazy);
