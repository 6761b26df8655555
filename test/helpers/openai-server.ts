/**
 * A server started before this file's tests and closed after them, with the official openai client pointed at its
 * /v1 (no retries, so a test sees every answer as the server gave it). Its fields are set once the tests run.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll } from 'vitest';

export interface OpenAiServer<S> {
  server: S;
  client: OpenAI;
}

export function useOpenAiServer<S extends { url: string; close(): Promise<void> }>(start: () => Promise<S>, apiKey: string): OpenAiServer<S> {
  const running = {} as OpenAiServer<S>;
  beforeAll(async () => {
    const server = await start();
    Object.assign(running, { server, client: new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 }) });
  });
  afterAll(async () => running.server?.close());
  return running;
}
