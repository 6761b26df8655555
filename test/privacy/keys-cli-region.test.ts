// npm run keys -- privacy ... --region: a pin set, shown and removed on the SQLite file, as an operator runs it; a
// region that is unknown, or that neither an upstream of the registry nor this server (EDGE_MAAS_REGION) is in, is
// refused naming --region, and the pin stays.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../paths.js';
import { tempDb } from '../billing/helpers.js';
import { sqliteRows } from '../billing/sqlite-rows.js';

let db: Awaited<ReturnType<typeof tempDb>>;
let modelsDir: string;
beforeAll(async () => {
  db = await tempDb();
  // The checkout's registry with its generation model served from a us upstream.
  const registry = JSON.parse(await readFile(join(repoRoot, 'models', 'registry.json'), 'utf8')) as { models: Array<{ runtime: string; upstreams?: unknown[] }> };
  for (const model of registry.models) if (model.runtime === 'gpu-upstream') model.upstreams = [{ url: 'https://gpu.us.example', model: 'stories260K', region: 'us' }];
  modelsDir = await mkdtemp(join(tmpdir(), 'edge-maas-region-'));
  await writeFile(join(modelsDir, 'registry.json'), JSON.stringify(registry));
});
afterAll(async () => {
  await db.remove();
  await rm(modelsDir, { recursive: true, force: true });
});

async function keys(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'functions/node/keys-cli.ts', ...args], { cwd: repoRoot, env: { ...process.env, USAGE_DB: db.path, MODELS_DIR: modelsDir, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
const lastLine = (text: string) => text.trim().split('\n').at(-1);

describe('npm run keys -- privacy --region', () => {
  it('pins a key to a served region, refuses unknown and unserved ones naming --region, keeps the pin, and removes it with none', async () => {
    expect((await keys({}, 'tenant', 'acme', '--stripe-customer', 'cus_acme')).code).toBe(0);
    const key = JSON.parse((await keys({}, 'create', '--tenant', 'acme')).stdout) as { id: string };
    expect((await keys({}, 'privacy', 'tenant', 'acme', '--pii', 'mask')).code).toBe(0);
    // A key's first row keeps its tenant's pii.
    expect(JSON.parse((await keys({}, 'privacy', 'key', key.id, '--region', 'us')).stdout)).toMatchObject({ pii: 'mask', retention: 'standard', region: 'us', source: 'key' });
    const unknown = await keys({}, 'privacy', 'key', key.id, '--region', 'mars');
    expect(unknown.code).toBe(1);
    expect(lastLine(unknown.stderr)).toMatch(/^error: --region: region must be one of "eu", "us"/);
    const unserved = await keys({}, 'privacy', 'key', key.id, '--region', 'eu');
    expect(unserved.code).toBe(1);
    expect(lastLine(unserved.stderr)).toMatch(/^error: --region: region "eu": no model's upstream runs there \(the regions served are us\)/);
    expect(JSON.parse((await keys({}, 'privacy', 'key', key.id)).stdout)).toMatchObject({ region: 'us' });
    // The server's own region serves in-process work: a pin to it is allowed.
    expect(JSON.parse((await keys({ EDGE_MAAS_REGION: 'eu' }, 'privacy', 'key', key.id, '--region', 'eu')).stdout)).toMatchObject({ region: 'eu' });
    expect(sqliteRows(db.path, "SELECT region FROM privacy_policies WHERE scope = 'key'")).toEqual([{ region: 'eu' }]);
    expect(JSON.parse((await keys({}, 'privacy', 'key', key.id, '--region', 'none')).stdout)).toMatchObject({ pii: 'mask', region: null });
    expect(sqliteRows(db.path, "SELECT region FROM privacy_policies WHERE scope = 'key'")).toEqual([{ region: null }]);
  });

  it("shows a key's policy in force with its source and region_source, as the API does: the tenant's pin", async () => {
    expect((await keys({}, 'tenant', 'pinnedco', '--stripe-customer', 'cus_pinnedco')).code).toBe(0);
    const key = JSON.parse((await keys({}, 'create', '--tenant', 'pinnedco')).stdout) as { id: string };
    expect(JSON.parse((await keys({}, 'privacy', 'tenant', 'pinnedco', '--region', 'us', '--pii', 'block')).stdout)).toMatchObject({ region: 'us', source: 'tenant', region_source: 'tenant' });
    expect(JSON.parse((await keys({}, 'privacy', 'key', key.id)).stdout)).toEqual({ object: 'privacy_policy', scope: 'key', id: key.id, pii: 'block', retention: 'standard', region: 'us', source: 'tenant', region_source: 'tenant' });
    expect(JSON.parse((await keys({}, 'privacy', 'key', key.id, '--retention', 'none')).stdout)).toMatchObject({ pii: 'block', retention: 'none', region: 'us', source: 'key', region_source: 'tenant' });
  });

  it('takes --region null as none, and its error message names what it takes', async () => {
    expect((await keys({}, 'tenant', 'nullco', '--stripe-customer', 'cus_nullco')).code).toBe(0);
    const key = JSON.parse((await keys({}, 'create', '--tenant', 'nullco')).stdout) as { id: string };
    expect((await keys({}, 'privacy', 'key', key.id, '--region', 'us')).code).toBe(0);
    expect(JSON.parse((await keys({}, 'privacy', 'key', key.id, '--region', 'null')).stdout)).toMatchObject({ region: null, region_source: 'default' });
    const bad = await keys({}, 'privacy', 'key', key.id, '--region', 'mars');
    expect(lastLine(bad.stderr)).toMatch(/, or none$/);
  });

  it("refuses to change a revoked key's policy", async () => {
    expect((await keys({}, 'tenant', 'goneco', '--stripe-customer', 'cus_goneco')).code).toBe(0);
    const key = JSON.parse((await keys({}, 'create', '--tenant', 'goneco')).stdout) as { id: string };
    expect((await keys({}, 'revoke', key.id)).code).toBe(0);
    const refused = await keys({}, 'privacy', 'key', key.id, '--region', 'us');
    expect(refused.code).toBe(1);
    expect(lastLine(refused.stderr)).toMatch(/revoked for good/);
  });
});
