/**
 * A pass-through HTTP proxy in front of a local DynamoDB that notes when each request was answered, so that a test
 * can tell whether a write completed before some moment (a Lambda response's end) rather than merely by the time
 * the test looks.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AnsweredCall {
  /** The DynamoDB operation (x-amz-target without its prefix): BatchWriteItem, TransactWriteItems, PutItem… */
  operation: string;
  body: string;
  answeredAt: number;
}

export interface DynamoWriteLog {
  endpoint: string;
  calls: AnsweredCall[];
  close(): Promise<void>;
}

export async function dynamoWriteLog(target: string): Promise<DynamoWriteLog> {
  const upstream = new URL(target);
  const calls: AnsweredCall[] = [];
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        const back: Buffer[] = [];
        answer.on('data', (part: Buffer) => back.push(part));
        answer.on('end', () => {
          calls.push({ operation: String(req.headers['x-amz-target'] ?? '').split('.').pop()!, body: body.toString(), answeredAt: performance.now() });
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          res.end(Buffer.concat(back));
        });
      });
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
