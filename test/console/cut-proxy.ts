/**
 * A real HTTP proxy on 127.0.0.1 in front of a server, which plays "the server went away mid-stream": it passes
 * everything through, except that a generation stream's connection is destroyed after its first few chunks.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CutProxy {
  url: string;
  /** Streams cut so far. */
  cuts: number;
  close(): Promise<void>;
}

export async function cutProxy(target: string, cutAfterChunks = 3): Promise<CutProxy> {
  const upstream = new URL(target);
  const state = { cuts: 0 };
  const server: Server = createServer((incoming, outgoing) => {
    const forward = request({ host: upstream.hostname, port: upstream.port, path: incoming.url, method: incoming.method, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      const streaming = /completions$/.test(incoming.url ?? '') && /event-stream/.test(String(answer.headers['content-type']));
      let chunks = 0;
      answer.on('data', (chunk: Buffer) => {
        outgoing.write(chunk);
        if (streaming && ++chunks === cutAfterChunks) {
          state.cuts += 1;
          // Give the written chunks a moment to leave, then drop both sides as a crashed server would.
          setTimeout(() => {
            outgoing.socket?.destroy();
            answer.destroy();
          }, 50);
        }
      });
      answer.on('end', () => outgoing.end());
    });
    forward.on('error', () => outgoing.destroy());
    incoming.pipe(forward);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get cuts() { return state.cuts; },
    close: () => new Promise((done) => {
      server.closeAllConnections();
      server.close(() => done());
    }),
  };
}
