/**
 * For the region-pinning tests: a real OpenAI-compatible upstream on 127.0.0.1 that records every body it receives
 * (chat and completions, whole or streamed), and a registry built from this checkout's edge model and gpu-upstream
 * models whose upstreams are tagged with regions.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Registry } from '../../functions/registry/registry.js';
import { repoRoot } from '../paths.js';

export interface RecordingUpstream {
  url: string;
  /** Each POST body received, as JSON. */
  bodies: Record<string, unknown>[];
  /** Every request received, health probes included. */
  hits: number;
  close(): Promise<void>;
}

/** Answers with its own name in the text, so the client can tell which region answered. */
export async function recordingUpstream(name: string): Promise<RecordingUpstream> {
  const bodies: Record<string, unknown>[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    recorder.hits++;
    if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw) as Record<string, unknown>;
    bodies.push(body);
    const chat = body.messages !== undefined;
    const base = { id: `${name}-1`, created: 1, model: String(body.model) };
    const text = `answered by ${name}`;
    if (!body.stream) {
      const choice = chat ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' } : { index: 0, text, finish_reason: 'stop' };
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ ...base, object: chat ? 'chat.completion' : 'text_completion', choices: [choice], usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 } }));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const object = chat ? 'chat.completion.chunk' : 'text_completion';
    const event = (choice: Record<string, unknown>, n: number) =>
      `data: ${JSON.stringify({ ...base, object, choices: [{ index: 0, ...choice }], usage: { prompt_tokens: 4, completion_tokens: n, total_tokens: 4 + n } })}\n\n`;
    res.write(event(chat ? { delta: { content: text }, finish_reason: null } : { text, finish_reason: null }, 1));
    res.write(event(chat ? { delta: {}, finish_reason: 'stop' } : { text: '', finish_reason: 'stop' }, 1));
    res.end('data: [DONE]\n\n');
  });
  const recorder: RecordingUpstream = {
    url: '',
    bodies,
    hits: 0,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  recorder.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return recorder;
}

export type RegionalUpstream = { url: string; region?: string };

/** The checkout's default edge classifier, and one text-generation model per entry of `generators`. */
export function regionalRegistry(generators: Record<string, RegionalUpstream[]>): Registry {
  const checkout = JSON.parse(readFileSync(join(repoRoot, 'models', 'registry.json'), 'utf8')) as { default: string; models: Array<{ aliases?: string[] }> };
  const classifier = checkout.models.find((m) => m.aliases?.includes(checkout.default))!;
  const price = { request_micro_usd: 0, input_token_micro_usd: 0, output_token_micro_usd: 0 };
  return Registry.parse({
    default: checkout.default,
    models: [classifier, ...Object.entries(generators).map(([id, upstreams]) => ({
      id, version: '1', task: 'text-generation', runtime: 'gpu-upstream', max_tokens: 64, price,
      upstreams: upstreams.map((u) => ({ model: `${id}-served`, ...u })),
    }))],
  });
}
