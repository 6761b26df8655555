// The router's Lambda bundle, as `cdk synth` builds it (esbuild, models and onnxruntime-web's wasm copied in),
// run outside the repository so that nothing resolves from its node_modules.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoBillingStore } from '../../functions/billing/dynamo/dynamo-billing-store.js';
import { createKey, createTenant } from '../../functions/billing/key-admin.js';
import { startLocalDynamo, type LocalDynamo } from '../billing/local-dynamodb.js';
import { repoRoot } from '../paths.js';

const dirs: string[] = [];
let dynamo: LocalDynamo | undefined;
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  await dynamo?.close();
});

describe('the router Lambda bundle', () => {
  it('synthesizes, and answers a Function URL event through the streaming entry, with keys and usage in DynamoDB', async () => {
    const out = await mkdtemp(join(tmpdir(), 'edge-maas-cdk-'));
    dirs.push(out);
    await promisify(execFile)('npx', ['cdk', 'synth', '--quiet', '--output', out], { cwd: join(repoRoot, 'infra'), env: { ...process.env, STAGE: 'dev' } });
    let asset = '';
    for (const entry of await readdir(out)) {
      if (!entry.startsWith('asset.') || !(await stat(join(out, entry, 'index.mjs')).catch(() => null))) continue;
      // The fine-tuning runner is the same bundle with another entry (infra/lib/tuning-store.ts).
      if ((await readFile(join(out, entry, 'index.mjs'), 'utf8')).includes('the runner needs TUNING_TABLE')) continue;
      asset = join(out, entry);
    }
    expect(asset).not.toBe('');
    const alone = await mkdtemp(join(tmpdir(), 'edge-maas-lambda-'));
    dirs.push(alone);
    await cp(asset, alone, { recursive: true });
    expect((await readdir(alone)).sort()).toEqual(['index.mjs', 'models', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']);

    // The bundle carries its own AWS SDK: it reaches DynamoDB with nothing from this repository's node_modules.
    dynamo = await startLocalDynamo();
    const store = new DynamoBillingStore(dynamo.client, dynamo.tables);
    await createTenant(store, { id: 'acme' }, Date.now());
    const { key, id } = await createKey(store, { tenant: 'acme' }, Date.now());
    const env = { ...process.env, BILLING_TABLE: dynamo.tables.billing, USAGE_TABLE: dynamo.tables.usage, DYNAMODB_ENDPOINT: dynamo.endpoint, EDGE_MAAS_AUTH: 'keys', ROUTER_API_KEY: key };
    const { stdout } = await promisify(execFile)(process.execPath, [join(repoRoot, 'test/infra/fixtures/invoke-router-bundle.mjs'), alone], { cwd: alone, env });
    const { meta, body } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { meta: { statusCode: number }; body: string };
    expect(meta.statusCode).toBe(200);
    expect((JSON.parse(body) as { results: { label: string }[][] }).results.map((r) => r[0]!.label)).toEqual(['POSITIVE', 'NEGATIVE']);
    const records = await store.usageRecords({ from: Date.now() - 60_000, to: Date.now() + 1, tenantId: 'acme' });
    expect(records).toEqual([expect.objectContaining({ keyId: id, route: 'POST /v1/classify', status: 200, model: 'sst2-glove-bilstm' })]);
  }, 180_000);
});
