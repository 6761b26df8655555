import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startServer, type RunningServer, type ServerOptions } from '../../functions/node/start-server.js';

export const ADMIN = 'test-admin-token';

export async function tempDb(): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-maas-billing-'));
  return { path: join(dir, 'usage.sqlite'), remove: () => rm(dir, { recursive: true, force: true }) };
}

export function adminClient(url: string) {
  const call = async (method: string, path: string, body?: unknown, token = ADMIN) => {
    const res = await fetch(`${url}/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (res.headers.get('content-type') ?? '').startsWith('application/json') ? ((await res.json()) as Record<string, any>) : await res.text() };
  };
  return {
    call,
    async key(tenant: string, limits: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
      const t = await call('POST', '/tenants', { id: tenant, stripe_customer_id: `cus_${tenant}` });
      if (t.status !== 201 && t.status !== 409) throw new Error(`tenant: ${JSON.stringify(t.body)}`);
      const k = await call('POST', '/keys', { tenant, ...limits });
      if (k.status !== 201) throw new Error(`key: ${JSON.stringify(k.body)}`);
      return k.body as { id: string; key: string };
    },
  };
}

export const classifyWith = (url: string, key: string | null, body: unknown = { input: 'a fine film' }, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/classify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: JSON.stringify(body),
  });

export interface KeysServer {
  server: RunningServer;
  db: Awaited<ReturnType<typeof tempDb>>;
  admin: ReturnType<typeof adminClient>;
  close(): Promise<void>;
}

/** A real server in keys mode on port 0 over a fresh SQLite file, with the admin API on; `close` removes both. */
export async function startKeysServer(options: ServerOptions = {}): Promise<KeysServer> {
  const db = await tempDb();
  const server = await startServer({ port: 0, auth: 'keys', usageDb: db.path, adminToken: ADMIN, ...options });
  return { server, db, admin: adminClient(server.url), close: async () => { await server.close(); await db.remove(); } };
}

/** startKeysServer before this file's tests, closed after them: the fields are set once the tests run. */
export function useKeysServer(options: ServerOptions = {}): KeysServer {
  const running = {} as KeysServer;
  beforeAll(async () => {
    Object.assign(running, await startKeysServer(options));
  });
  afterAll(async () => running.close?.());
  return running;
}
