// npm run keys -- privacy: a key's and a tenant's privacy policy set and shown on the SQLite file, as an operator runs it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../paths.js';
import { tempDb } from '../billing/helpers.js';
import { sqliteRows } from '../billing/sqlite-rows.js';

let db: Awaited<ReturnType<typeof tempDb>>;
beforeAll(async () => {
  db = await tempDb();
});
afterAll(() => db.remove());

async function keys(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'functions/node/keys-cli.ts', ...args], { cwd: repoRoot, env: { ...process.env, USAGE_DB: db.path } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run keys -- privacy', () => {
  it('shows the default, sets the fields given, refuses unknown values naming the flag and keeps the policy', async () => {
    expect((await keys('tenant', 'acme', '--stripe-customer', 'cus_acme')).code).toBe(0);
    const key = JSON.parse((await keys('create', '--tenant', 'acme')).stdout) as { id: string };
    expect(JSON.parse((await keys('privacy', 'key', key.id)).stdout)).toMatchObject({ pii: 'off', retention: 'standard', source: 'default' });
    expect(JSON.parse((await keys('privacy', 'key', key.id, '--pii', 'mask')).stdout)).toMatchObject({ pii: 'mask', retention: 'standard', source: 'key' });
    expect(JSON.parse((await keys('privacy', 'tenant', 'acme', '--retention', 'none')).stdout)).toMatchObject({ pii: 'off', retention: 'none' });
    const bad = await keys('privacy', 'key', key.id, '--pii', 'redact');
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n').at(-1)).toMatch(/--pii: pii must be one of "off", "mask", "block"/);
    expect((await keys('privacy', 'key', 'key_ghost', '--pii', 'mask')).stderr).toMatch(/key "key_ghost" does not exist/);
    expect(sqliteRows(db.path, 'SELECT scope, id, pii, retention FROM privacy_policies ORDER BY scope')).toEqual([
      { scope: 'key', id: key.id, pii: 'mask', retention: 'standard' },
      { scope: 'tenant', id: 'acme', pii: 'off', retention: 'none' },
    ]);
  });
});
