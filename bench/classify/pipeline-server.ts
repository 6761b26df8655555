/**
 * Peer (a): what a user writes by hand. A minimal Hono route around @xenova/transformers' text-classification
 * pipeline, on the same int8 model folder. Prints "listening on <url>" when ready.
 */
import { basename, dirname } from 'node:path';
import { serve } from '@hono/node-server';
import { env, pipeline } from '@xenova/transformers';
import { Hono } from 'hono';
import { defaultModelDir } from './sentences.js';

env.allowRemoteModels = false;
env.localModelPath = `${dirname(defaultModelDir)}/`;
const classifier = await pipeline('text-classification', basename(defaultModelDir), { quantized: true });

const app = new Hono();
app.post('/v1/classify', async (c) => {
  const { input } = (await c.req.json()) as { input: string | string[] };
  return c.json({ results: await classifier(input) });
});
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`);
});
