// Fuzz (issue 17): random and mutated bodies, headers and encodings at every route of the real Node server on
// 127.0.0.1, in keys mode with an SQLite file, then briefly in open mode. Seeded (FUZZ_SEED overrides; the seed is in
// every failure) and bounded in requests and time. Promises checked: no 5xx but a queue's 503 with Retry-After, the
// JSON error shape on every 4xx/5xx, a request id on every answer, whole streams, nothing logged as an error, and
// /healthz answering under 50 ms (p95) between requests.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';
import { ADMIN, adminClient, tempDb } from '../billing/helpers.js';
import { fuzzCases } from './fuzz-cases.js';
import { violations, type Target } from './fuzz-client.js';
import { seededRng, seedFromEnv } from './fuzz-random.js';
import { emptyReport, percentile, runCases, runRawCases, type FuzzReport } from './fuzz-run.js';

const SEED = seedFromEnv();
const RANDOM_CASES = Number(process.env.FUZZ_CASES ?? 1_200);
const KEYS_BUDGET_MS = 32_000;
const OPEN_BUDGET_MS = 8_000;
const HEALTHZ_P95_MS = 50;

let db: Awaited<ReturnType<typeof tempDb>>;
let keysServer: RunningServer;
let openServer: RunningServer;
const errorsLogged: string[] = [];

async function credentials(url: string): Promise<Record<string, string>> {
  const admin = adminClient(url);
  const main = await admin.key('fuzz', { rpm: 1_000_000, tpm: 1_000_000_000 });
  const [victim, doomed, revoked, disabled] = await Promise.all(['a', 'b', 'c', 'd'].map(() => admin.key('fuzz_victims')));
  const tight = await admin.key('fuzz_tight', { rpm: 2, tpm: 50 });
  const broke = await admin.key('fuzz_broke', { monthly_budget_micro_usd: 0 });
  expect((await admin.call('DELETE', `/keys/${revoked!.id}`)).status).toBe(200);
  expect((await admin.call('POST', `/keys/${disabled!.id}/disable`)).status).toBe(200);
  return { key: main.key, admin: ADMIN, victim: victim!.id, doomed: doomed!.id, revoked: revoked!.key, disabled: disabled!.key, tight: tight.key, broke: broke.key };
}

const targetOf = (url: string, placeholders: Record<string, string>): Target => {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port), placeholders };
};

function expectPromisesKept(report: FuzzReport, mode: string): void {
  const replay = `(FUZZ_SEED=${SEED} npx vitest run test/app/fuzz.test.ts replays it)`;
  const shown = report.findings.slice(0, 25).map((f) => `- ${f.problems.join('; ')}\n  request: ${f.request}\n  answer: ${f.answer}`).join('\n');
  const summary = `${mode}: ${report.sent} requests, statuses ${JSON.stringify(report.statuses)}, /healthz p50 ${percentile(report.healthzMs, 50).toFixed(1)} ms,`
    + ` p95 ${percentile(report.healthzMs, 95).toFixed(1)} ms, max ${Math.max(...report.healthzMs).toFixed(1)} ms`;
  console.log(`fuzz seed ${SEED}; ${summary}`);
  expect(report.findings.length, `${report.findings.length} answers broke a promise, seed ${SEED} ${replay}:\n${shown}\n`).toBe(0);
  expect(report.healthzFailures, `/healthz failed between fuzz requests, seed ${SEED}`).toEqual([]);
  expect(percentile(report.healthzMs, 95), `/healthz p95 over ${HEALTHZ_P95_MS} ms, seed ${SEED}: ${summary}`).toBeLessThan(HEALTHZ_P95_MS);
  expect(errorsLogged, `errors logged during the fuzz, seed ${SEED}`).toEqual([]);
}

beforeAll(async () => {
  db = await tempDb();
  [keysServer, openServer] = await Promise.all([
    startServer({ port: 0, auth: 'keys', usageDb: db.path, adminToken: ADMIN }),
    startServer({ port: 0, auth: 'open' }),
  ]);
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errorsLogged.push(args.map(String).join(' ')));
}, 60_000);
afterAll(async () => {
  vi.restoreAllMocks();
  await Promise.all([keysServer?.close(), openServer?.close()]);
  await db?.remove();
});

describe('fuzzing the running app', () => {
  it('keeps its promises in keys mode: every route, method, body, header and encoding', async () => {
    const target = targetOf(keysServer.url, await credentials(keysServer.url));
    const report = emptyReport();
    const deadline = performance.now() + KEYS_BUDGET_MS;
    await runRawCases(target, report);
    await runCases(target, fuzzCases(seededRng(SEED), RANDOM_CASES), deadline, report);
    const ok = await fetch(`${keysServer.url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${target.placeholders.key}` }, body: '{"input":"still fine"}' });
    expect(ok.status, `the server no longer classifies after the fuzz, seed ${SEED}`).toBe(200);
    expectPromisesKept(report, 'keys mode');
  }, 50_000);

  it('keeps them in open mode', async () => {
    const target = targetOf(openServer.url, { key: 'em_not_needed', admin: 'no-admin-token' });
    const report = emptyReport();
    await runCases(target, fuzzCases(seededRng(SEED + 1), Math.ceil(RANDOM_CASES / 4), { oddities: false }), performance.now() + OPEN_BUDGET_MS, report);
    expectPromisesKept(report, 'open mode');
  }, 20_000);
});

describe('the fuzz checks themselves', () => {
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
    status, headers: { 'x-request-id': 'r', 'content-type': 'application/json', ...headers }, body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const error = { error: { message: 'm', type: 't', code: 'c', param: null } };

  it('pass a well-formed error and a queue 503 with Retry-After', () => {
    expect(violations('POST', '/v1/classify', answer(400, error))).toEqual([]);
    expect(violations('POST', '/v1/classify', answer(503, error, { 'retry-after': '1' }))).toEqual([]);
  });

  it('catch 5xx, other error shapes, missing request ids and broken streams', () => {
    expect(violations('POST', '/v1/classify', answer(500, error))).toEqual(['a 500']);
    expect(violations('POST', '/v1/classify', answer(503, error))).toEqual(['a 503']);
    expect(violations('GET', '/v1/usage', answer(503, error, { 'retry-after': '1' }))).toEqual(['a 503']);
    expect(violations('POST', '/v1/completions', answer(504, error, { 'retry-after': '1' }))).toEqual(['a 504']);
    expect(violations('GET', '/x', answer(404, 'Not Found', { 'content-type': 'text/plain' }))).toEqual(['an error with content-type text/plain']);
    expect(violations('GET', '/x', answer(404, { error: { message: 'm' } }))).toHaveLength(1);
    expect(violations('GET', '/x', answer(400, { message: 'm', type: 't', code: 'c', param: null }))).toHaveLength(1);
    expect(violations('GET', '/x', { ...answer(200, {}), headers: { 'content-type': 'application/json' } })).toEqual(['no x-request-id']);
    const stream = (text: string) => answer(200, text, { 'content-type': 'text/event-stream' });
    expect(violations('POST', '/v1/completions', stream('data: {"id":1}\n\ndata: {"error":{"message":"upstream"}}\n\n'))).toHaveLength(1);
    expect(violations('POST', '/v1/completions', stream('data: {"id":1}\n\n'))).toHaveLength(1);
    expect(violations('POST', '/v1/completions', stream('data: {"id":1}\n\ndata: [DONE]\n\n'))).toEqual([]);
    expect(violations('POST', '/v1/classify', { failed: 'no answer within 20000 ms' })).toHaveLength(1);
  });

  it('make the same cases from the same seed', () => {
    const names = (seed: number) => [...fuzzCases(seededRng(seed), 50, { sweep: false, oddities: false })].map((c) => `${c.method} ${c.path} ${c.body?.length}`);
    expect(names(7)).toEqual(names(7));
    expect(names(7)).not.toEqual(names(8));
  });
});
