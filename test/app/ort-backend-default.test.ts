// `npm start`'s onnxruntime, as a user starts it (functions/node/server.ts in its own process): onnxruntime-node by
// default, onnxruntime-web with ORT_BACKEND=wasm, and GET /v1/models names the one serving. Where onnxruntime-node
// cannot load (here Node's --no-addons, under which loading its binding fails as a missing or foreign binary does),
// the default serves on WASM and says why, and ORT_BACKEND=node refuses to start, saying why and what to do.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../paths.js';

interface Started { url: string; stdout: string; stderr: string; stop(): Promise<void> }
interface Exited { code: number | null; stderr: string }

/** Spawns npm start's entry; resolves once it listens, or with its exit code and stderr if it exits first. */
function startEntry(env: Record<string, string>): Promise<Started | Exited> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'functions/node/server.ts'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', EMBEDDED_GENERATION: 'off', BILLING: 'off', FINE_TUNING: 'off', ORT_BACKEND: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return new Promise((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const url = /listening on (http:\/\/[\d.]+:\d+)/.exec(stdout)?.[1];
      if (url) resolve({ url, stdout, get stderr() { return stderr; }, stop: () => (child.kill('SIGTERM'), exited) });
    });
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

function listening(started: Started | Exited): Started {
  if (!('url' in started)) throw new Error(`npm start exited with ${started.code}: ${started.stderr}`);
  return started;
}

async function servedEngine(url: string): Promise<{ engine: string; label: string }> {
  const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string; engine: string | null }[] };
  const res = await fetch(`${url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: 'a wonderful , heartfelt film .' }) });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { results: { label: string }[][] };
  return { engine: models.data.find((m) => m.id === 'sst2-bert@3')!.engine!, label: body.results[0]![0]!.label };
}

const NO_ADDONS = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --no-addons`.trim() };

describe("npm start's onnxruntime", () => {
  it.each([
    ['unset: onnxruntime-node', {}, 'onnxruntime-node'],
    ['ORT_BACKEND=node', { ORT_BACKEND: 'node' }, 'onnxruntime-node'],
    ['ORT_BACKEND=wasm', { ORT_BACKEND: 'wasm' }, 'onnxruntime-web'],
  ])('%s serves, announces and lists the engine', async (_name, env, engine) => {
    const server = listening(await startEntry(env));
    try {
      expect(server.stdout).toContain(`sst2-bert@3 on ${engine}`);
      expect(await servedEngine(server.url)).toEqual({ engine, label: 'POSITIVE' });
      expect(server.stderr).not.toMatch(/cannot load/);
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('falls back to WASM by default where onnxruntime-node cannot load, and says why', async () => {
    const server = listening(await startEntry(NO_ADDONS));
    try {
      expect(server.stderr).toMatch(/onnxruntime-node cannot load here \(Cannot load native addon because loading addons is disabled\.\): serving on onnxruntime-web \(WASM\) instead/);
      expect(server.stdout).toContain('sst2-bert@3 on onnxruntime-web');
      expect(await servedEngine(server.url)).toEqual({ engine: 'onnxruntime-web', label: 'POSITIVE' });
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('refuses to start with ORT_BACKEND=node where onnxruntime-node cannot load, saying why and what to do', async () => {
    const exited = await startEntry({ ...NO_ADDONS, ORT_BACKEND: 'node' });
    expect(exited).toMatchObject({ code: 1 });
    expect((exited as Exited).stderr).toMatch(/^error: ORT_BACKEND=node: onnxruntime-node cannot load here \(Cannot load native addon because loading addons is disabled\.\); reinstall it with npm ci, or set ORT_BACKEND=wasm/m);
  }, 60_000);

  it('refuses an unknown ORT_BACKEND, naming the choices and the default', async () => {
    const exited = await startEntry({ ORT_BACKEND: 'gpu' });
    expect(exited).toMatchObject({ code: 1 });
    expect((exited as Exited).stderr).toMatch(/error: ORT_BACKEND must be "node" or "wasm" \(default "node"\), not "gpu"/);
  }, 60_000);
});
