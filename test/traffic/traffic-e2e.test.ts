/**
 * Traffic routes end to end through the real Node server (keys mode, SQLite file, admin API): a split alias answers
 * each key with one version (header and body name it), bad route bodies are 400s that leave the route in force, a
 * shadow's answers are never returned nor billed while its comparisons are counted, and DELETE returns to the
 * registry's plain alias. `npm run models:route` changes the same table the running server reads.
 */
import { execFile } from 'node:child_process';
import Database from 'better-sqlite3';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { classifyWith, startKeysServer, type KeysServer } from '../billing/helpers.js';
import { sqliteRows } from '../billing/sqlite-rows.js';
import { eventually } from '../helpers/eventually.js';
import { repoRoot } from '../paths.js';

const BILSTM = 'sst2-glove-bilstm@2';
const BERT = 'sst2-bert@3';
const VERSION = 'x-edge-maas-model-version';
const TEXTS = ['a wonderful, heartfelt film', 'a dull, lifeless mess', 'not bad at all', 'the plot goes nowhere'];

let running: KeysServer;
let keys: { id: string; key: string }[];

beforeAll(async () => {
  running = await startKeysServer({ generation: false, fineTuning: false });
  keys = [];
  for (let i = 0; i < 40; i++) keys.push(await running.admin.key('traffic_e2e', { rpm: 100_000 }));
});
afterAll(async () => running?.close());

/** An admin call whose answer is JSON (every /admin/routes answer is). */
const admin = async (method: string, path: string, body?: unknown, token?: string) => {
  const res = await running.admin.call(method, path, body, token);
  return { status: res.status, body: res.body as Record<string, any> };
};
const route = (method: string, alias: string, body?: unknown) => admin(method, `/routes/${alias}`, body);

async function answer(key: string, body: unknown = { input: TEXTS[0] }, headers: Record<string, string> = {}) {
  const res = await classifyWith(running.server.url, key, body, headers);
  const json = (await res.json()) as { model?: string; results?: { label: string; score: number }[][] };
  return { status: res.status, version: res.headers.get(VERSION), json };
}

/** Requests and input tokens billed per model on /v1/classify (a usage row may stand for several requests). */
const billedByModel = async () => {
  await running.server.billing!.writer.flush();
  const rows = sqliteRows(running.db.path, "SELECT model || '@' || model_version AS model, SUM(requests) AS requests, SUM(input_tokens) AS input_tokens FROM usage WHERE route = 'POST /v1/classify' GROUP BY 1");
  const billed = new Map(rows.map((r) => [r.model as string, { requests: r.requests as number, inputTokens: r.input_tokens as number }]));
  return (model: string) => billed.get(model) ?? { requests: 0, inputTokens: 0 };
};

describe('a split alias', () => {
  it('answers every key with one version, named in the header and the body, and both versions serve', async () => {
    const put = await route('PUT', 'sentiment', { weights: { [BILSTM]: 50, [BERT]: 50 } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ object: 'model_route', alias: 'sentiment', source: 'route', weights: { [BILSTM]: 50, [BERT]: 50 }, shadow: null });
    const seen = new Map<string, Set<string>>();
    for (const { id, key } of keys) {
      for (let i = 0; i < 3; i++) {
        const res = await answer(key, { input: TEXTS[i]! });
        expect(res.status).toBe(200);
        expect(res.json.model).toBe(res.version);
        seen.set(id, (seen.get(id) ?? new Set()).add(res.version!));
      }
    }
    expect([...seen.values()].every((versions) => versions.size === 1)).toBe(true);
    const versions = [...seen.values()].map((v) => [...v][0]);
    // 40 keys at 50/50: both versions serve (all on one side has probability 2^-39).
    expect(new Set(versions)).toEqual(new Set([BILSTM, BERT]));
    // The HF route follows the same route for the same key.
    const { id, key } = keys[0]!;
    const hf = await fetch(`${running.server.url}/models/sentiment`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ inputs: 'fine' }) });
    expect(hf.status).toBe(200);
    expect(hf.headers.get(VERSION)).toBe([...seen.get(id)!][0]);
    // A request naming one version is never routed; another name of the routed model (its bare id) follows the route
    // (route-spellings.test.ts), to the key's own version.
    expect((await answer(key, { model: BERT, input: 'fine' })).version).toBe(BERT);
    expect((await answer(key, { model: 'sst2-glove-bilstm', input: 'fine' })).version).toBe([...seen.get(id)!][0]);
  });

  it('refuses bad route bodies with 400 naming the field, and the route in force stays', async () => {
    const before = await route('GET', 'sentiment');
    const versionOf = async () => (await answer(keys[1]!.key)).version;
    const servedBefore = await versionOf();
    const bad: [unknown, string][] = [
      [{ weights: { [BILSTM]: 60, [BERT]: 60 } }, 'weights'],
      [{ weights: { [BILSTM]: 90, 'stories260K@1': 10 } }, 'weights.stories260K@1'],
      [{ weights: { [BILSTM]: 90, 'sst2-bert@7': 10 } }, 'weights.sst2-bert@7'],
      [{ weights: { [BILSTM]: 100 }, shadow: { model: 'sst2-bert@7', percent: 5 } }, 'shadow.model'],
      [{ weights: { [BILSTM]: 100 }, shadow: { model: BERT, percent: -5 } }, 'shadow.percent'],
      [{ weights: { [BILSTM]: 100 }, canary: true }, 'canary'],
    ];
    for (const [body, param] of bad) {
      const res = await route('PUT', 'sentiment', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toMatchObject({ param, type: 'invalid_request_error' });
    }
    expect((await route('PUT', 'sentiment', '{"weights": ')).status).toBe(400);
    expect((await route('PUT', 'no-such-alias', { weights: { [BILSTM]: 100 } })).status).toBe(404);
    expect((await route('GET', 'sentiment')).body).toEqual(before.body);
    expect(await versionOf()).toBe(servedBefore);
    expect((await admin('GET', '/routes', undefined, 'wrong-token')).status).toBe(401);
  });
});

describe('a shadow version', () => {
  it('runs beside the answer, never returned nor billed, and its comparisons are counted', async () => {
    expect((await route('PUT', 'sentiment', { weights: { [BILSTM]: 100 }, shadow: { model: BERT, percent: 100 } })).status).toBe(200);
    const { key } = keys[2]!;
    const before = await billedByModel();
    const direct = await answer(key, { model: BILSTM, input: TEXTS });
    // Usage is recorded as an answer ends, so the counts are read once they include it.
    const directTokens = (await eventually(billedByModel, (b) => b(BILSTM).requests === before(BILSTM).requests + 1))(BILSTM);
    const requests = 12;
    for (let i = 0; i < requests; i++) {
      const res = await answer(key, { input: TEXTS });
      expect(res.version).toBe(BILSTM);
      expect(res.json.model).toBe(BILSTM);
      expect(res.json.results).toEqual(direct.json.results); // the BiLSTM's answer, not the transformer's
    }
    // Every text of every request is either compared or skipped (more than 4 shadow runs at once).
    const counted = (r: { body: any }) => r.body.shadow_comparisons?.[0] && r.body.shadow_comparisons[0].compared + r.body.shadow_comparisons[0].skipped === requests * TEXTS.length;
    const comparison = (await eventually(() => route('GET', 'sentiment'), counted)).body.shadow_comparisons[0];
    expect(comparison).toMatchObject({ model: BILSTM, shadow_model: BERT });
    expect(comparison.compared).toBeGreaterThan(0);
    expect(comparison.agreement).toBeGreaterThanOrEqual(0.5); // two SST-2 models on plain sentences mostly agree
    expect(comparison.mean_abs_score_delta).toBeGreaterThanOrEqual(0);
    expect(comparison.mean_abs_score_delta).toBeLessThan(1);
    // Billed: the answered requests, each at the BiLSTM's tokens for these texts; nothing for the shadow's runs.
    const after = await eventually(billedByModel, (b) => b(BILSTM).requests >= directTokens.requests + requests);
    const perRequest = directTokens.inputTokens - before(BILSTM).inputTokens;
    expect(perRequest).toBeGreaterThan(0);
    expect(after(BILSTM)).toEqual({ requests: directTokens.requests + requests, inputTokens: directTokens.inputTokens + requests * perRequest });
    expect(after(BERT)).toEqual(before(BERT));
  });

  it('returns to the registry alias on DELETE, keeping the comparison counts', async () => {
    const deleted = await route('DELETE', 'sentiment');
    expect(deleted.body).toMatchObject({ deleted: true, source: 'registry', weights: { [BILSTM]: 100 }, shadow: null });
    expect(deleted.body.shadow_comparisons.length).toBe(1);
    expect((await admin('GET', '/routes')).body.data).toEqual([]);
    for (const { key } of keys.slice(0, 10)) expect((await answer(key)).version).toBe(BILSTM);
  });
});

describe('a stale route', () => {
  it('naming a version the registry no longer has leaves the registry alias answering', async () => {
    const db = new Database(running.db.path);
    try {
      db.prepare('INSERT INTO model_routes (alias, weights, shadow_model, shadow_percent, updated_at) VALUES (?, ?, NULL, NULL, ?)')
        .run('sentiment', JSON.stringify([{ model: 'sst2-bert@9', weight: 100 }]), Date.now());
    } finally {
      db.close();
    }
    // Within the 5 s cache the route is read (and the server says why it does not follow it); every answer is the registry's.
    const logged = vi.spyOn(console, 'error');
    const started = Date.now();
    while (Date.now() - started < 5_500) {
      const res = await answer(keys[4]!.key);
      expect([res.status, res.version]).toEqual([200, BILSTM]);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(logged.mock.calls.some(([line]) => String(line).includes('sst2-bert@9'))).toBe(true);
    logged.mockRestore();
    // The admin API says so, in GET one and GET all: which version is stale and which answers instead.
    const shown = (await route('GET', 'sentiment')).body;
    expect(shown).toMatchObject({ source: 'route', weights: { 'sst2-bert@9': 100 }, stale: ['sst2-bert@9'], registry_model: BILSTM });
    expect(shown.stale_note).toContain(BILSTM);
    expect((await admin('GET', '/routes')).body.data.find((r: any) => r.alias === 'sentiment')).toEqual(shown);
    expect((await route('DELETE', 'sentiment')).body.deleted).toBe(true);
  });

  it('whose alias left the registry is shown (stale shadow too) and deleted once, then 404 no_route', async () => {
    const db = new Database(running.db.path);
    try {
      db.prepare('INSERT INTO model_routes (alias, weights, shadow_model, shadow_percent, updated_at) VALUES (?, ?, ?, ?, ?)')
        .run('retired-alias', JSON.stringify([{ model: BILSTM, weight: 100 }]), 'sst2-glove-bilstm@9', 10, Date.now());
    } finally {
      db.close();
    }
    const shown = await route('GET', 'retired-alias');
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ source: 'route', weights: { [BILSTM]: 100 }, shadow: { model: 'sst2-glove-bilstm@9', percent: 10 }, stale: ['sst2-glove-bilstm@9'], registry_model: null });
    expect(shown.body.stale_note).toContain('never runs');
    expect((await admin('GET', '/routes')).body.data.map((r: any) => r.alias)).toContain('retired-alias');
    const deleted = await route('DELETE', 'retired-alias');
    expect([deleted.status, deleted.body.deleted, deleted.body.source, deleted.body.removed]).toEqual([200, true, 'none', { weights: { [BILSTM]: 100 }, shadow: { model: 'sst2-glove-bilstm@9', percent: 10 } }]);
    const again = await route('DELETE', 'retired-alias');
    expect([again.status, again.body.error?.code]).toEqual([404, 'no_route']);
    expect((await route('GET', 'retired-alias')).status).toBe(404);
    expect((await admin('GET', '/routes')).body.data.map((r: any) => r.alias)).not.toContain('retired-alias');
    // A registry alias with no route stored: nothing to delete either.
    expect((await route('DELETE', 'sentiment')).body.error?.code).toBe('no_route');
  });
});

describe('npm run models:route', () => {
  it('sets, shows and clears a route in the file the running server reads (seen within its 5 s cache)', async () => {
    const cli = (...args: string[]) => promisify(execFile)('npx', ['tsx', 'functions/node/models-route-cli.ts', ...args], { cwd: repoRoot, env: { ...process.env, USAGE_DB: running.db.path } });
    const set = JSON.parse((await cli('set', 'sentiment', '--weight', `${BERT}=100`)).stdout) as { weights: Record<string, number> };
    expect(set.weights).toEqual({ [BERT]: 100 });
    await eventually(() => answer(keys[3]!.key), (r) => r.version === BERT, 8_000, 200);
    await expect(cli('set', 'sentiment', '--weight', `${BERT}=90`)).rejects.toMatchObject({ stderr: expect.stringContaining('weights') });
    expect(JSON.parse((await cli('show', 'sentiment')).stdout).weights).toEqual({ [BERT]: 100 });
    expect(JSON.parse((await cli('clear', 'sentiment')).stdout).source).toBe('registry');
    await eventually(() => answer(keys[3]!.key), (r) => r.version === BILSTM, 8_000, 200);
  });
});
