// Loss: every request a client saw answered is metered exactly once, under load and across a SIGTERM.
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { UsageWriter } from '../../functions/billing/usage-writer.js';
import { startServer } from '../../functions/node/server.js';
import { repoRoot } from '../paths.js';
import { ADMIN, adminClient, tempDb } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Seen {
  id: string;
  key: string;
  status: number;
}

/** `connections` clients sending classifications back to back, keys in turn, until `total` are sent or `stop()`. */
async function load(url: string, keys: string[], connections: number, total: number, stopped: () => boolean = () => false): Promise<Seen[]> {
  const seen: Seen[] = [];
  let sent = 0;
  await Promise.all(Array.from({ length: connections }, async (_, client) => {
    while (sent < total && !stopped()) {
      const n = sent++;
      const key = keys[n % keys.length]!;
      const id = `load-${client}-${n}`;
      try {
        const res = await fetch(`${url}/v1/classify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-request-id': id },
          body: JSON.stringify({ input: n % 2 ? 'a fine , moving film' : 'a dull mess' }),
        });
        await res.arrayBuffer();
        seen.push({ id, key, status: res.status });
      } catch {
        // not answered (the server went away): it may or may not be metered
      }
    }
  }));
  return seen;
}

const readUsage = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT id, request_id, key_id, status FROM usage').all() as { id: string; request_id: string; key_id: string; status: number }[];
  } finally {
    db.close();
  }
};

describe('metering under load', () => {
  it('10,000 requests over 64 connections with three keys: usage matches what the clients saw, exactly', async () => {
    const db = await tempDb();
    cleanups.push(db.remove);
    const server = await startServer({ port: 0, backend: 'node', auth: 'keys', usageDb: db.path, adminToken: ADMIN, generation: false });
    cleanups.push(() => server.close());
    const admin = adminClient(server.url);
    const THIRD_RPM = 100;
    const keys = [await admin.key('one', { rpm: 1_000_000 }), await admin.key('two', { rpm: 1_000_000 }), await admin.key('three', { rpm: THIRD_RPM })];
    const started = Date.now();
    const seen = await load(server.url, keys.map((k) => k.key), 64, 10_000);
    const elapsedMinutes = (Date.now() - started) / 60_000;
    expect(seen).toHaveLength(10_000);
    await server.billing!.writer.flush();
    const usage = readUsage(db.path);
    const tally = (rows: { key: string; status: number }[]) => rows.reduce<Record<string, number>>((t, r) => ({ ...t, [`${r.key} ${r.status}`]: (t[`${r.key} ${r.status}`] ?? 0) + 1 }), {});
    const byKey = new Map(keys.map((k) => [k.key, k.id]));
    expect(tally(usage.map((u) => ({ key: u.key_id, status: u.status })))).toEqual(tally(seen.map((s) => ({ key: byKey.get(s.key)!, status: s.status }))));
    expect(new Set(usage.map((u) => u.request_id))).toEqual(new Set(seen.map((s) => s.id)));
    // One row per answer, each with an id of its own (not the client's x-request-id): none lost, none twice.
    expect(usage).toHaveLength(seen.length);
    expect(new Set(usage.map((u) => u.id)).size).toBe(usage.length);
    expect((server.billing!.writer as UsageWriter).written).toBe(usage.length);
    // The third key's bucket holds THIRD_RPM and refills THIRD_RPM a minute: at most that many of its requests pass,
    // however long the load took; the rest were refused, and metered too.
    const thirdAllowed = seen.filter((s) => s.key === keys[2]!.key && s.status === 200).length;
    expect(thirdAllowed).toBeLessThanOrEqual(Math.ceil(THIRD_RPM * (1 + elapsedMinutes)) + 1);
    expect(seen.filter((s) => s.key === keys[2]!.key && s.status === 429).length).toBe(Math.ceil(10_000 / 3) - thirdAllowed);
  }, 180_000);

  it('SIGTERM in the middle of a load: every answered request is in the usage table, none twice', async () => {
    const db = await tempDb();
    cleanups.push(db.remove);
    const child = spawn(process.execPath, ['--import', 'tsx', 'functions/node/server.ts'], {
      cwd: repoRoot,
      env: { ...process.env, PORT: '0', ORT_BACKEND: 'node', EDGE_MAAS_AUTH: 'keys', USAGE_DB: db.path, ADMIN_TOKEN: ADMIN, EMBEDDED_GENERATION: 'off' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanups.push(() => void child.kill('SIGKILL'));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const admin = adminClient(url);
    const keys = [await admin.key('a', { rpm: 1_000_000 }), await admin.key('b', { rpm: 1_000_000 })];
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let stop = false;
    const loading = load(url, keys.map((k) => k.key), 32, 1_000_000, () => stop);
    await new Promise((r) => setTimeout(r, 1_500));
    child.kill('SIGTERM');
    const code = await exited;
    stop = true;
    const seen = await loading;
    expect(code).toBe(0);
    expect(seen.length).toBeGreaterThan(100);
    const usage = readUsage(db.path);
    const metered = new Set(usage.map((u) => u.request_id));
    expect(metered.size).toBe(usage.length); // the clients' ids were unique: so are the rows
    expect(new Set(usage.map((u) => u.id)).size).toBe(usage.length);
    expect(seen.filter((s) => !metered.has(s.id))).toEqual([]);
  }, 120_000);
});
