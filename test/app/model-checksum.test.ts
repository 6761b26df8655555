// A model file that is missing or not the one the registry's sha256 names stops the Node server at start-up with an
// error that names the model and the file (on a copy of models/ that MODELS_DIR points at).
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../paths.js';

let dir: string;
let startServer: typeof import('../../functions/node/start-server.js').startServer;

const modelFolder = () => join(dir, 'sst2-bert');
const restore = () => cp(join(repoRoot, 'models', 'sst2-bert'), modelFolder(), { recursive: true });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-maas-models-'));
  await cp(join(repoRoot, 'models', 'registry.json'), join(dir, 'registry.json'));
  // Every other registry model loads at start-up too; only sst2-bert's copy is spoiled and restored.
  for (const folder of ['sst2-glove-bilstm-v2', 'electra-imdb-small']) await cp(join(repoRoot, 'models', folder), join(dir, folder), { recursive: true });
  process.env.MODELS_DIR = dir; // read when server.ts is first imported
  ({ startServer } = await import('../../functions/node/start-server.js'));
});
beforeEach(restore);
afterAll(async () => {
  delete process.env.MODELS_DIR;
  await rm(dir, { recursive: true, force: true });
});

const start = () => startServer({ port: 0, generation: false, billing: false });

describe('a registry checksum mismatch at start-up (Node)', () => {
  it.each([
    ['an altered tokenizer_config.json', () => writeFile(join(modelFolder(), 'tokenizer_config.json'), '{"do_lower_case": false}'), /model sst2-bert@3: tokenizer_config\.json has sha256 [0-9a-f]{12}…, the registry says b33741c415dd…/],
    ['a missing ONNX file', () => unlink(join(modelFolder(), 'onnx', 'model_quantized.onnx')), /model sst2-bert@3: file onnx\/model_quantized\.onnx is missing/],
  ])('%s refuses to start, naming the file', async (_name, spoil, message) => {
    await spoil();
    await expect(start()).rejects.toThrow(message);
  });

  it('npm start exits non-zero and says which file is wrong', async () => {
    await writeFile(join(modelFolder(), 'config.json'), '{}');
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'functions/node/server.ts'], {
      cwd: repoRoot, env: { ...process.env, MODELS_DIR: dir, PORT: '0', EMBEDDED_GENERATION: 'off', BILLING: 'off' },
    });
    const failure = await run.then(() => null, (error: { code: number; stderr: string }) => error);
    expect(failure?.code).not.toBe(0);
    expect(failure?.stderr).toMatch(/model sst2-bert@3: config\.json has sha256 [0-9a-f]{12}…, the registry says 9ecc707cced8…/);
  }, 30_000);

  it('starts on an intact copy', async () => {
    const server = await start();
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
