// The Node server's own edges: what Node's HTTP parser rejects is answered as JSON, and a drain answers requests on
// kept-alive connections (with Connection: close) instead of resetting them.
import http from 'node:http';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsDir } from '../../functions/node/billing-setup.js';
import { openSqlite } from '../../functions/node/sqlite-database.js';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';
import { newEventId, newJobId } from '../../functions/tuning/ids.js';
import { MemoryBlobStore } from '../../functions/tuning/memory-blob-store.js';
import { SqlTuningStore } from '../../functions/tuning/sql-tuning-store.js';
import { OPEN_TENANT } from '../../functions/http/request-context.js';
import { eventually } from '../helpers/eventually.js';

/** Writes raw bytes on a fresh connection and reads everything until the server closes it. */
function raw(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(bytes));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

function parse(answer: string) {
  const [head, body] = [answer.slice(0, answer.indexOf('\r\n\r\n')), answer.slice(answer.indexOf('\r\n\r\n') + 4)];
  const [statusLine, ...headers] = head.split('\r\n');
  return {
    status: Number(statusLine!.split(' ')[1]),
    headers: Object.fromEntries(headers.map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()])),
    body: JSON.parse(body) as { error: { message: string; type: string; code: string; param: null } },
  };
}

describe("requests Node's parser rejects", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ port: 0, generation: false, billing: false });
  });
  afterAll(() => server.close());

  it('a malformed request line gets a JSON 400 and the connection closes', async () => {
    const answer = parse(await raw(server.url, 'NOT HTTP AT ALL\r\n\r\n'));
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.headers.connection).toBe('close');
    expect(answer.headers['x-request-id']).toMatch(/^[\w-]{8,}$/);
    expect(answer.body.error).toEqual({ message: expect.any(String), type: 'invalid_request_error', code: 'malformed_request', param: null });
  });

  it('headers past the limit get a JSON 431', async () => {
    const answer = parse(await raw(server.url, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    expect(answer.status).toBe(431);
    expect(answer.headers.connection).toBe('close');
    expect(answer.body.error.code).toBe('headers_too_large');
  });

  it('keeps serving afterwards', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe('close() under a keep-alive load', () => {
  it('answers the requests that arrive on kept-alive connections, with Connection: close, and resets none', async () => {
    const server = await startServer({ port: 0, generation: false, billing: false });
    const { hostname, port } = new URL(server.url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const body = JSON.stringify({ input: Array.from({ length: 8 }, (_, i) => `a wonderful , heartfelt film number ${i} .`) });
    const outcomes: { status?: number; connection?: string; error?: string; reused: boolean; draining: boolean }[] = [];
    let draining = false;
    let stop = false;
    const one = () => new Promise<void>((done) => {
      const req = http.request({ agent, host: hostname, port, path: '/v1/classify', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => {
          outcomes.push({ status: res.statusCode, connection: res.headers.connection, reused: req.reusedSocket, draining });
          done();
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        outcomes.push({ error: error.code ?? error.message, reused: req.reusedSocket, draining });
        done();
      });
      req.end(body);
    });
    const clients = Array.from({ length: 32 }, async () => {
      while (!stop) await one();
    });
    while (outcomes.filter((o) => o.status === 200).length < 40) await new Promise((r) => setTimeout(r, 20));
    draining = true;
    await server.close();
    stop = true;
    await Promise.all(clients);
    agent.destroy();
    // A request sent on a connection the server had kept alive was always answered; new connections after the
    // drain began are refused (or reset, if they reached the listening socket while it was being closed).
    expect(outcomes.filter((o) => o.reused && o.error)).toEqual([]);
    expect(outcomes.filter((o) => o.error && !['ECONNREFUSED', 'ECONNRESET'].includes(o.error))).toEqual([]);
    expect(outcomes.filter((o) => o.status !== undefined && o.status !== 200)).toEqual([]);
    expect(outcomes.some((o) => o.draining && o.status === 200 && o.connection === 'close')).toBe(true);
  });
});

describe('close() with a job event stream open', () => {
  it('ends the stream with event: shutdown at once instead of waiting for the job to finish', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edge-maas-shutdown-'));
    const usageDb = join(dir, 'db.sqlite');
    const server = await startServer({ port: 0, generation: false, usageDb });
    // A job that stays running: as if another server on the database ran it, so its stream never ends on its own.
    const db = await openSqlite(usageDb, migrationsDir);
    try {
      const store = new SqlTuningStore(db, new MemoryBlobStore());
      const now = Math.floor(Date.now() / 1000);
      const id = newJobId();
      await store.insertJob({
        id, tenantId: OPEN_TENANT, keyId: null, model: 'electra-imdb-small@1', trainingFile: `file-${'0'.repeat(24)}`, validationFile: null,
        hyperparameters: { nEpochs: 1, batchSize: 8, learningRateMultiplier: 1 }, suffix: null, seed: 1, status: 'running', createdAt: now,
        startedAt: now, finishedAt: null, estimatedFinish: null, error: null, fineTunedModel: null, trainedTokens: null, result: null,
        resultFiles: [], attempts: 1, usageId: crypto.randomUUID(),
      });
      await store.addEvent({ id: newEventId(), jobId: id, createdAt: now, level: 'info', type: 'message', message: 'Fine-tuning job started', data: null });
      const res = await fetch(`${server.url}/v1/fine_tuning/jobs/${id}/events?stream=true`);
      expect(res.status).toBe(200);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      while (!text.includes('Fine-tuning job started')) text += (await reader.read()).value ?? '';
      const started = performance.now();
      await server.close();
      const closeMs = performance.now() - started;
      for (let part = await reader.read(); !part.done; part = await reader.read()) text += part.value;
      expect(text).toMatch(/event: shutdown\ndata: \{"message":"the server is shutting down[^\n]*\n\n$/);
      // The drain's limit is 10 s; its idle grace 250 ms.
      expect(closeMs).toBeLessThan(3_000);
    } finally {
      db.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('a start that fails', () => {
  it('closes the generation server and the database it had opened: nothing is left listening', async () => {
    const taken = http.createServer();
    await new Promise<void>((listening) => taken.listen(0, '127.0.0.1', listening));
    const port = (taken.address() as { port: number }).port;
    const listeners = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
    const before = listeners();
    try {
      await expect(startServer({ port, usageDb: ':memory:' })).rejects.toThrow(/EADDRINUSE/);
      // Closed servers leave the list a tick after their close callbacks; one never closed stays in it.
      await eventually(listeners, (n) => n === before, 3_000);
    } finally {
      await new Promise((closed) => taken.close(closed));
    }
  });
});
