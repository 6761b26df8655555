// The router's Lambda bundle, as `cdk synth` builds it (esbuild, models and onnxruntime-web's wasm copied in),
// run outside the repository so that nothing resolves from its node_modules.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../paths.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('the router Lambda bundle', () => {
  it('synthesizes, and answers a Function URL event through the streaming entry', async () => {
    const out = await mkdtemp(join(tmpdir(), 'edge-maas-cdk-'));
    dirs.push(out);
    await promisify(execFile)('npx', ['cdk', 'synth', '--quiet', '--output', out], { cwd: join(repoRoot, 'infra'), env: { ...process.env, STAGE: 'dev' } });
    let asset = '';
    for (const entry of await readdir(out)) {
      if (entry.startsWith('asset.') && (await stat(join(out, entry, 'index.mjs')).catch(() => null))) asset = join(out, entry);
    }
    expect(asset).not.toBe('');
    const alone = await mkdtemp(join(tmpdir(), 'edge-maas-lambda-'));
    dirs.push(alone);
    await cp(asset, alone, { recursive: true });
    expect((await readdir(alone)).sort()).toEqual(['index.mjs', 'models', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']);

    const { stdout } = await promisify(execFile)(process.execPath, [join(repoRoot, 'test/infra/fixtures/invoke-router-bundle.mjs'), alone], { cwd: alone });
    const { meta, body } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { meta: { statusCode: number }; body: string };
    expect(meta.statusCode).toBe(200);
    expect((JSON.parse(body) as { results: { label: string }[][] }).results.map((r) => r[0]!.label)).toEqual(['POSITIVE', 'NEGATIVE']);
  }, 180_000);
});
