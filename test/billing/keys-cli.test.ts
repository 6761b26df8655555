// npm run keys and npm run billing:export against an SQLite file, as an operator runs them.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../paths.js';
import { tempDb } from './helpers.js';

let db: Awaited<ReturnType<typeof tempDb>>;
beforeAll(async () => {
  db = await tempDb();
});
afterAll(() => db.remove());

async function cli(script: string, args: string[], usageDb = db.path): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, ...args], { cwd: repoRoot, env: { ...process.env, USAGE_DB: usageDb } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
const keys = (...args: string[]) => cli('functions/node/keys-cli.ts', args);

describe('npm run keys', () => {
  it('creates a tenant and a key (shown once), lists, disables and revokes it', async () => {
    expect((await keys('tenant', 'acme', '--stripe-customer', 'cus_acme')).code).toBe(0);
    const created = await keys('create', '--tenant', 'acme', '--rpm', '600', '--budget-usd', '2.5');
    expect(created.code).toBe(0);
    expect(created.stderr).toMatch(/shown once/);
    const key = JSON.parse(created.stdout) as { id: string; key: string; rpm: number; monthly_budget_micro_usd: number };
    expect(key).toMatchObject({ rpm: 600, monthly_budget_micro_usd: 2_500_000 });
    expect(key.key).toMatch(/^em_/);
    const listed = JSON.parse((await keys('list', '--tenant', 'acme')).stdout) as { id: string; status: string }[];
    expect(listed).toEqual([expect.objectContaining({ id: key.id, status: 'active' })]);
    expect(JSON.stringify(listed)).not.toContain(key.key);
    expect(JSON.parse((await keys('disable', key.id)).stdout).status).toBe('disabled');
    expect(JSON.parse((await keys('revoke', key.id)).stdout).status).toBe('revoked');
  });

  it('changes only the limits and budget given (limits), and takes the budget away with --budget-usd none', async () => {
    expect((await keys('tenant', 'limitco')).code).toBe(0);
    const { id } = JSON.parse((await keys('create', '--tenant', 'limitco', '--rpm', '600', '--tpm', '5000', '--budget-usd', '2')).stdout) as { id: string };
    const changed = await keys('limits', id, '--rpm', '100', '--budget-usd', '5');
    expect(changed.code).toBe(0);
    expect(JSON.parse(changed.stdout)).toMatchObject({ id, rpm: 100, tpm: 5000, monthly_budget_micro_usd: 5_000_000 });
    expect(JSON.parse((await keys('limits', id, '--budget-usd', 'none', '--name', 'renamed')).stdout)).toMatchObject({ rpm: 100, monthly_budget_micro_usd: null, name: 'renamed' });
    const listed = JSON.parse((await keys('list', '--tenant', 'limitco')).stdout) as unknown[];
    expect(listed).toEqual([expect.objectContaining({ id, rpm: 100, tpm: 5000, monthly_budget_micro_usd: null, name: 'renamed' })]);
  });

  it.each([
    [['create', '--tenant', 'ghost'], /tenant "ghost" does not exist/],
    [['create', '--tenant', 'acme', '--rpm=-5'], /"rpm" must be an integer from 1 to 1,000,000/],
    [['revoke'], /needs a key id/],
    [['limits'], /limits needs a key id/],
    [['limits', 'key_nope', '--rpm', '5'], /no key "key_nope"/],
    [['limits', 'key_nope'], /nothing to change/],
    [['limits', 'key_nope', '--tpm', '1.5'], /--tpm must be a whole number in decimal digits, not "1.5"/],
    [['limits', 'key_nope', '--rpm', 'many'], /--rpm must be a whole number in decimal digits, not "many"/],
    [['limits', 'key_nope', '--rpm', '0x10'], /--rpm must be a whole number in decimal digits, not "0x10"/],
    [['limits', 'key_nope', '--rpm', ' 12'], /--rpm must be a whole number in decimal digits, not " 12"/],
    [['limits', 'key_nope', '--rpm', '1e3'], /--rpm must be a whole number/],
    [['create', '--tenant', 'acme', '--tpm', '0b11'], /--tpm must be a whole number/],
    [['limits', 'key_nope', '--budget-usd', '0.0000001'], /--budget-usd: "0.0000001" has more than 6 decimals: the smallest step is \$0.000001/],
    [['limits', 'key_nope', '--budget-usd', '1,5'], /--budget-usd: "1,5" has a comma: write dollars with a decimal point/],
    [['limits', 'key_nope', '--budget-usd', '2.5.1'], /--budget-usd: "2.5.1" is not an amount in dollars/],
    [['limits', 'key_nope', '--budget-usd', '5e'], /--budget-usd: "5e" is not an amount/],
    [['limits', 'key_nope', '--budget-usd', ''], /--budget-usd: enter an amount/],
    [['create', '--tenant', 'acme', '--budget-usd', '2000000'], /--budget-usd: must be at most \$1,000,000/],
    [['limits', 'key_nope', '--name', ''], /"name" must not be empty or blank/],
    [['dance'], /usage: npm run keys/],
    [['create', '--tenant', 'acme', '--budget-usd', '-1'], /argument is ambiguous.*--budget-usd=-XYZ/],
  ])('%j fails with one clear line', async (args, message) => {
    const { code, stderr } = await keys(...args);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n').at(-1)).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('reads --budget-usd exactly: 0.000001 is 1 micro-USD, 0 is free requests only, 19.99 is 19,990,000', async () => {
    expect((await keys('tenant', 'exactco')).code).toBe(0);
    const { id } = JSON.parse((await keys('create', '--tenant', 'exactco', '--budget-usd', '19.99')).stdout) as { id: string };
    expect(JSON.parse((await keys('list', '--tenant', 'exactco')).stdout)[0].monthly_budget_micro_usd).toBe(19_990_000);
    expect(JSON.parse((await keys('limits', id, '--budget-usd', '0.000001')).stdout).monthly_budget_micro_usd).toBe(1);
    expect(JSON.parse((await keys('limits', id, '--budget-usd', '0')).stdout).monthly_budget_micro_usd).toBe(0);
    expect(JSON.parse((await keys('limits', id, '--rpm', '0012')).stdout).rpm).toBe(12);
  });

  it('prints its usage for --help and help, and a mistyped command creates no database file', async () => {
    for (const args of [['--help'], ['help'], ['-h']]) {
      const { code, stdout } = await keys(...args);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^usage: npm run keys/);
    }
    const elsewhere = await tempDb();
    try {
      expect((await cli('functions/node/keys-cli.ts', ['dance'], elsewhere.path)).code).toBe(1);
      expect(existsSync(elsewhere.path)).toBe(false);
    } finally {
      await elsewhere.remove();
    }
  });

  it('billing:export refuses a bad range with one line', async () => {
    const { code, stderr } = await cli('functions/node/billing-export-cli.ts', ['--from', 'yesterday']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/"from" must be an ISO date/);
  });
});
