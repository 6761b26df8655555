/**
 * An OpenAI-compatible upstream on 127.0.0.1 that records the headers of every POST it receives and answers with a
 * fixed usage (9 prompt tokens, 5 completion tokens), whole or as a stream of 5 chunks.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export const PROMPT_TOKENS = 9;
export const COMPLETION_TOKENS = 5;

export interface RecordingUpstream {
  url: string;
  received: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** `chunkGapMs`: the pause before each streamed chunk after the first. */
export async function recordingUpstream({ chunkGapMs = 0 } = {}): Promise<RecordingUpstream> {
  const received: IncomingHttpHeaders[] = [];
  const server = createServer(async (req, res) => {
    if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    let body = '';
    for await (const chunk of req) body += chunk;
    received.push(req.headers);
    const request = JSON.parse(body) as { stream?: boolean };
    const base = { id: 'x1', created: 1, model: 'stories260K' };
    const usage = (n: number) => ({ prompt_tokens: PROMPT_TOKENS, completion_tokens: n, total_tokens: PROMPT_TOKENS + n });
    if (!request.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'once upon a time' }, finish_reason: 'stop' }], usage: usage(COMPLETION_TOKENS) }));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let n = 1; n <= COMPLETION_TOKENS; n++) {
      if (n > 1 && chunkGapMs > 0) await new Promise((r) => setTimeout(r, chunkGapMs));
      const finish = n === COMPLETION_TOKENS ? 'stop' : null;
      res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: ` w${n}` }, finish_reason: finish }], usage: usage(n) })}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
