/**
 * A key's limits changed on the AWS router's DynamoDB tables: through the Lambda handler's admin API (applied from the
 * next request), and by `npm run keys -- limits` in another process, which the handler sees once its cached lookup
 * expires (2 s) rather than at once.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { repoRoot } from '../paths.js';
import { useLambdaBackends } from '../app/lambda-backends.js';
import { functionUrlEvent, lambdaContext, type BufferedResult } from '../app/lambda-events.js';

const ADMIN_TOKEN = 'lambda-limits-admin';
const lambda = useLambdaBackends(ADMIN_TOKEN);
let handler: typeof import('../../functions/lambda/handler.js').handler;

beforeAll(async () => {
  ({ handler } = await import('../../functions/lambda/handler.js'));
});

async function keys(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'functions/node/keys-cli.ts', ...args], { cwd: repoRoot, env: { ...process.env, ...lambda.env } });
  return JSON.parse(stdout) as Record<string, unknown>;
}

const invoke = async (method: string, path: string, body: unknown, authorization: string) =>
  (await handler(functionUrlEvent(method, path, JSON.stringify(body), { 'content-type': 'application/json', authorization }), lambdaContext)) as BufferedResult;
const classify = (key: string) => invoke('POST', '/v1/classify', { input: 'a fine film' }, `Bearer ${key}`);

describe('changing a key on DynamoDB', () => {
  it('through the admin API: the next request is admitted under the new limit and budget', async () => {
    expect((await invoke('POST', '/admin/tenants', { id: 'patched' }, `Bearer ${ADMIN_TOKEN}`)).statusCode).toBe(201);
    const created = await invoke('POST', '/admin/keys', { tenant: 'patched', rpm: 100 }, `Bearer ${ADMIN_TOKEN}`);
    const { id, key } = JSON.parse(created.body) as { id: string; key: string };
    expect((await classify(key)).statusCode).toBe(200);
    const changed = await invoke('PATCH', `/admin/keys/${id}`, { rpm: 1 }, `Bearer ${ADMIN_TOKEN}`);
    expect(changed.statusCode).toBe(200);
    expect(JSON.parse(changed.body)).toMatchObject({ id, rpm: 1, tpm: 1_000_000 });
    // The sliding window has this minute's request in it already: the very next one is refused.
    const refused = await classify(key);
    expect([refused.statusCode, refused.headers['x-ratelimit-limit-requests']]).toEqual([429, '1']);
    expect((await invoke('PATCH', `/admin/keys/${id}`, { rpm: 100, monthly_budget_micro_usd: 0 }, `Bearer ${ADMIN_TOKEN}`)).statusCode).toBe(200);
    expect((await classify(key)).statusCode).toBe(402);
    const bad = await invoke('PATCH', `/admin/keys/${id}`, { tpm: -1 }, `Bearer ${ADMIN_TOKEN}`);
    expect([bad.statusCode, JSON.parse(bad.body).error.param]).toEqual([400, 'tpm']);
  }, 60_000);

  it('keeps the requests used this minute when rpm is lowered, as the Node and Worker buckets do: 100 to 5 after 3 leaves about 2', async () => {
    expect((await invoke('POST', '/admin/tenants', { id: 'lowered' }, `Bearer ${ADMIN_TOKEN}`)).statusCode).toBe(201);
    const { id, key } = JSON.parse((await invoke('POST', '/admin/keys', { tenant: 'lowered', rpm: 100 }, `Bearer ${ADMIN_TOKEN}`)).body) as { id: string; key: string };
    for (let i = 0; i < 3; i++) expect((await classify(key)).statusCode).toBe(200);
    expect((await invoke('PATCH', `/admin/keys/${id}`, { rpm: 5 }, `Bearer ${ADMIN_TOKEN}`)).statusCode).toBe(200);
    let admitted = 0;
    for (let i = 0; i < 6; i++) {
      const answer = await classify(key);
      if (answer.statusCode !== 200) {
        expect(answer.statusCode).toBe(429);
        break;
      }
      admitted++;
    }
    // 2; a third only if a minute boundary passed and the sliding window weighed the first 3 a little less.
    expect(admitted).toBeGreaterThanOrEqual(2);
    expect(admitted).toBeLessThanOrEqual(3);
  }, 60_000);

  it('by npm run keys -- limits in another process: seen once the cached lookup expires', async () => {
    await keys('tenant', 'clichange');
    const { id, key } = (await keys('create', '--tenant', 'clichange', '--rpm', '50')) as { id: string; key: string };
    expect((await classify(key)).headers['x-ratelimit-limit-requests']).toBe('50');
    expect(await keys('limits', id, '--rpm', '40')).toMatchObject({ id, rpm: 40 });
    const changedAt = Date.now();
    await eventually(async () => (await classify(key)).headers['x-ratelimit-limit-requests'], (limit) => limit === '40', 10_000, 100);
    // Bound: the authenticator's 2 s, and the CLI's own start-up already counted in; generous for a loaded machine.
    expect(Date.now() - changedAt).toBeLessThan(6_000);
  }, 60_000);
});
