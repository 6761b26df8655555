/**
 * The app both Lambda entries serve, built once per execution environment on its first invocation (and again
 * after a failed build): this checkout's models, and the registry's "embedded" upstream pointed at
 * GENERATION_UPSTREAM_URL when it is set.
 */
import type { Hono } from 'hono';
import { buildLocalApp, readLocalRegistry } from '../node/server.js';

let app: Promise<Hono> | null = null;

async function build(): Promise<Hono> {
  let registry = await readLocalRegistry();
  if (process.env.GENERATION_UPSTREAM_URL) registry = registry.withEmbeddedUpstream(process.env.GENERATION_UPSTREAM_URL);
  return (await buildLocalApp('wasm', true, registry)).app;
}

export function lambdaApp(): Promise<Hono> {
  app ??= build().catch((error: unknown) => {
    app = null;
    throw error;
  });
  return app;
}
