// Loss: every request a client saw answered is metered exactly once, under load and across a SIGTERM.
import { afterEach, describe, expect, it } from 'vitest';
import { priceOf } from './prices.js';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import { startServer } from '../../functions/node/start-server.js';
import { eventually } from '../helpers/eventually.js';
import { spawnEntry } from '../helpers/spawn-entry.js';
import { ADMIN, adminClient, tempDb } from './helpers.js';
import { sqliteRows } from './sqlite-rows.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Seen {
  id: string;
  key: string;
  status: number;
  /** The input tokens the answer said it used (none when refused). */
  inputTokens: number;
}

/** `connections` clients sending classifications back to back, keys in turn, until `total` are sent or `stop()`. */
async function load(url: string, keys: string[], connections: number, total: number, stopped: () => boolean = () => false, seen: Seen[] = []): Promise<Seen[]> {
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
        const body = (await res.json()) as { usage?: { input_tokens: number } };
        seen.push({ id, key, status: res.status, inputTokens: body.usage?.input_tokens ?? 0 });
      } catch {
        // not answered (the server went away): it may or may not be metered
      }
    }
  }));
  return seen;
}

const readUsage = (path: string) =>
  sqliteRows(path, 'SELECT id, request_id, key_id, status, input_tokens, output_tokens, cost_micro_usd FROM usage') as {
    id: string; request_id: string; key_id: string; status: number; input_tokens: number; output_tokens: number; cost_micro_usd: number;
  }[];

describe('metering under load', () => {
  it('10,000 requests over 64 connections with three keys: usage matches what the clients saw, exactly', async () => {
    const db = await tempDb();
    cleanups.push(db.remove);
    let written = 0;
    const server = await startServer({
      port: 0, backend: 'node', auth: 'keys', usageDb: db.path, adminToken: ADMIN, generation: false, onUsageWritten: (n) => void (written += n),
    });
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
    expect(written).toBe(usage.length);
    // Each row bills the tokens its answer reported, at the registry's price; a refused request bills nothing.
    const price = (await readLocalRegistry()).resolve('sentiment')!.price;
    const row = new Map(usage.map((u) => [u.request_id, u]));
    const billed = (s: Seen) => ({ id: s.id, input: s.inputTokens, output: 0, cost: s.status === 200 ? priceOf(price, s.inputTokens, 0) : 0 });
    const rowOf = (s: Seen) => ({ id: s.id, input: row.get(s.id)!.input_tokens, output: row.get(s.id)!.output_tokens, cost: row.get(s.id)!.cost_micro_usd });
    expect(seen.map(rowOf)).toEqual(seen.map(billed));
    // The third key's bucket holds THIRD_RPM and refills THIRD_RPM a minute: at most that many of its requests pass,
    // however long the load took; the rest were refused, and metered too.
    const third = seen.filter((s) => s.key === keys[2]!.key);
    const thirdAllowed = third.filter((s) => s.status === 200).length;
    expect(thirdAllowed).toBeLessThanOrEqual(Math.ceil(THIRD_RPM * (1 + elapsedMinutes)) + 1);
    expect(third.filter((s) => s.status === 429)).toHaveLength(third.length - thirdAllowed);
  }, 180_000);

  it('SIGTERM in the middle of a load: every answered request is in the usage table, none twice', async () => {
    const db = await tempDb();
    cleanups.push(db.remove);
    const server = await spawnEntry('functions/node/server.ts', { ORT_BACKEND: 'node', EDGE_MAAS_AUTH: 'keys', USAGE_DB: db.path, ADMIN_TOKEN: ADMIN, EMBEDDED_GENERATION: 'off' });
    cleanups.push(() => server.kill());
    const admin = adminClient(server.url);
    const keys = [await admin.key('a', { rpm: 1_000_000 }), await admin.key('b', { rpm: 1_000_000 })];
    let stop = false;
    const answered: Seen[] = [];
    const loading = load(server.url, keys.map((k) => k.key), 32, 1_000_000, () => stop, answered);
    await eventually(() => answered.length, (n) => n >= 100, 60_000); // in full flow, then the signal
    server.kill('SIGTERM');
    const code = await server.exited;
    stop = true;
    const seen = await loading;
    expect(code).toBe(0);
    expect(seen.length).toBeGreaterThanOrEqual(100);
    const usage = readUsage(db.path);
    const metered = new Set(usage.map((u) => u.request_id));
    expect(metered.size).toBe(usage.length); // the clients' ids were unique: so are the rows
    expect(new Set(usage.map((u) => u.id)).size).toBe(usage.length);
    expect(seen.filter((s) => !metered.has(s.id))).toEqual([]);
  }, 120_000);
});
