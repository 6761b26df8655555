// The Worker's bundle, checked from Node: every registry edge model is bundled, and wrangler builds it.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Registry } from '../../functions/registry/registry.js';
import { repoRoot } from '../paths.js';

const run = promisify(execFile);

describe('the Worker bundle', () => {
  it('imports every file of every edge model in the registry', async () => {
    const registry = Registry.parse(JSON.parse(await readFile(join(repoRoot, 'models', 'registry.json'), 'utf8')));
    const source = await readFile(join(repoRoot, 'functions', 'worker', 'bundled-models.js'), 'utf8');
    const imported = new Set([...source.matchAll(/from '\.\.\/\.\.\/models\/([^']+)'/g)].map((m) => m[1]));
    expect(imported.has('registry.json')).toBe(true);
    const edge = registry.models.filter((m) => m.runtime === 'edge-wasm');
    expect(edge.length).toBeGreaterThan(0);
    for (const model of edge) {
      for (const path of Object.keys(model.files)) expect(imported, `${model.folder}/${path}`).toContain(`${model.folder}/${path}`);
    }
  });

  it('builds with wrangler deploy --dry-run, model and wasm as separate modules, within 64 MiB (16 MiB gzip)', async () => {
    const outdir = await mkdtemp(join(tmpdir(), 'edge-maas-bundle-'));
    try {
      await run('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outdir], { cwd: repoRoot, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
      const files = await readdir(outdir);
      expect(files.some((f) => f.endsWith('model_quantized.onnx'))).toBe(true);
      expect(files.some((f) => f.endsWith('ort-wasm-simd-threaded.wasm'))).toBe(true);
      let raw = 0;
      let gzip = 0;
      for (const file of files.filter((f) => !f.endsWith('.map') && f !== 'README.md')) {
        const bytes = await readFile(join(outdir, file));
        raw += (await stat(join(outdir, file))).size;
        gzip += gzipSync(bytes).length;
      }
      console.log(`Worker bundle: ${(raw / 2 ** 20).toFixed(2)} MiB raw, ${(gzip / 2 ** 20).toFixed(2)} MiB gzip`);
      expect(raw).toBeLessThan(64 * 2 ** 20);
      // Our own budget, below the platform's: a lean bundle starts faster (10.4 MiB with the two int8 models).
      expect(gzip).toBeLessThanOrEqual(16 * 2 ** 20);
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  });
});
