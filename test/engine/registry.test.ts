import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Registry, RegistryError } from '../../functions/registry/registry.js';
import { verifyModelFiles, type FileReader } from '../../functions/registry/verify-files.js';
import { repoRoot } from '../paths.js';

const registryJson = JSON.parse(await readFile(join(repoRoot, 'models', 'registry.json'), 'utf8'));
const readFrom = (folder: string): FileReader => async (path) => {
  try {
    return new Uint8Array(await readFile(join(repoRoot, 'models', folder, path)));
  } catch {
    return null;
  }
};

const entry = (overrides: Record<string, unknown> = {}) => ({
  id: 'm', version: '1', task: 'text-classification', runtime: 'edge-wasm', folder: 'm', onnx: 'model.onnx',
  files: { 'model.onnx': 'a'.repeat(64) }, labels: ['NEG', 'POS'], max_tokens: 128,
  price: { request_micro_usd: 1, input_token_micro_usd: 0, output_token_micro_usd: 0 }, ...overrides,
});

const encoder = (overrides: Record<string, unknown> = {}) => entry({ id: 'e', task: 'feature-extraction', labels: undefined, max_tokens: 512, ...overrides });

const generation = (overrides: Record<string, unknown> = {}) => ({
  id: 'g', version: '1', task: 'text-generation', runtime: 'gpu-upstream', max_tokens: 64,
  price: { request_micro_usd: 0, input_token_micro_usd: 0.05, output_token_micro_usd: 0.2 }, ...overrides,
});

describe('the model registry', () => {
  it('resolves the default, ids, id@version and aliases of the committed registry', () => {
    const registry = Registry.parse(registryJson);
    const model = registry.resolve()!;
    expect(model).toMatchObject({ id: 'sst2-glove-bilstm', version: '2', runtime: 'edge-wasm', labels: ['NEGATIVE', 'POSITIVE'] });
    expect(registry.resolve('sentiment')).toBe(model);
    expect(registry.resolve('sst2-glove-bilstm')).toBe(model);
    expect(registry.resolve('sst2-glove-bilstm@2')).toBe(model);
    const transformer = registry.resolve('sst2-bert@3')!;
    expect(transformer).toMatchObject({ id: 'sst2-bert', version: '3', aliases: ['sentiment-transformer'] });
    expect(registry.resolve('sentiment-transformer')).toBe(transformer);
    expect(registry.resolve('nope')).toBeUndefined();
  });

  it('resolves a bare id to its latest version', () => {
    const registry = Registry.parse({ default: 'm', models: [entry(), entry({ version: '10' }), entry({ version: '2' })] });
    expect(registry.resolve('m')!.version).toBe('10');
    expect(registry.resolve('m@2')!.version).toBe('2');
  });

  it('verifies the committed model files against their sha256', async () => {
    const model = Registry.parse(registryJson).resolve()!;
    const files = await verifyModelFiles(model, readFrom(model.folder!));
    expect([...files.keys()].sort()).toEqual(Object.keys(model.files).sort());
  });

  it('names the file that is missing or altered', async () => {
    const model = Registry.parse(registryJson).resolve()!;
    const altered: FileReader = async (path) => (path === 'config.json' ? new TextEncoder().encode('{}') : readFrom(model.folder!)(path));
    await expect(verifyModelFiles(model, altered)).rejects.toThrow(/config.json has sha256 .* the registry says/);
    await expect(verifyModelFiles(model, async () => null)).rejects.toThrow(/file .* is missing/);
  });

  it('reads an upstream\'s warmup_seconds, and leaves it out when absent', () => {
    const upstreams = [{ url: 'https://gpu.example.com/', model: 'qwen', warmup_seconds: 240 }, { url: 'embedded', model: 'stories260K' }];
    const model = Registry.parse({ default: 'g', models: [generation({ upstreams })] }).resolve('g')!;
    expect(model.upstreams).toEqual([{ url: 'https://gpu.example.com', model: 'qwen', warmupSeconds: 240 }, { url: 'embedded', model: 'stories260K' }]);
  });

  it.each([0, -5, '60', Number.NaN, null])('rejects warmup_seconds %j', (warmup) => {
    const upstreams = [{ url: 'https://gpu.example.com', model: 'qwen', warmup_seconds: warmup }];
    expect(() => Registry.parse({ default: 'g', models: [generation({ upstreams })] })).toThrow(/model g upstreams\[0\]: "warmup_seconds" must be a positive number of seconds/);
  });

  it('reads a feature-extraction model: edge-wasm, no labels, never the default', () => {
    const registry = Registry.parse({ default: 'm', models: [entry(), encoder()] });
    expect(registry.resolve('e')).toMatchObject({ id: 'e', task: 'feature-extraction', runtime: 'edge-wasm', labels: [], folder: 'm', onnx: 'model.onnx' });
    expect(registry.resolve()!.id).toBe('m');
    expect(registry.names()).toEqual(['e', 'e@1', 'm', 'm@1']);
  });

  it.each([
    [{ default: 'm', models: [entry(), encoder({ runtime: 'gpu-upstream', upstreams: [{ url: 'embedded', model: 'e' }] })] }, /model e: a feature-extraction model must be edge-wasm/],
    [{ default: 'm', models: [entry(), encoder({ labels: ['NEG', 'POS'] })] }, /model e: a feature-extraction model has no labels/],
    [{ default: 'e', models: [entry(), encoder()] }, /default model "e" is a feature-extraction model/],
    [{ default: 'enc', models: [entry(), encoder({ aliases: ['enc'] })] }, /default model "enc" is a feature-extraction model/],
    [{ default: 'm', models: [entry(), encoder({ folder: undefined })] }, /model e: "folder" must be the model folder/],
  ])('refuses a feature-extraction model %j', (value, message) => {
    expect(() => Registry.parse(value)).toThrow(RegistryError);
    expect(() => Registry.parse(value)).toThrow(message);
  });

  it.each([
    [{ default: 'm', models: [] }, /non-empty "models"/],
    [{ models: [entry()] }, /"default" model name/],
    [{ default: 'x', models: [entry()] }, /default model "x" is not in the registry/],
    [{ default: 'm', models: [entry({ task: 'translation' })] }, /"task" must be one of/],
    [{ default: 'm', models: [entry({ runtime: 'tpu' })] }, /"runtime" must be one of/],
    [{ default: 'm', models: [entry({ files: { 'model.onnx': 'xyz' } })] }, /must be a lowercase hex sha256/],
    [{ default: 'm', models: [entry({ files: {} })] }, /must list its ONNX file/],
    [{ default: 'm', models: [entry({ max_tokens: -1 })] }, /"max_tokens" must be a positive integer/],
    [{ default: 'm', models: [entry({ labels: ['ONLY'] })] }, /at least two labels/],
    [{ default: 'm', models: [entry({ price: { request_micro_usd: -1 } })] }, /"request_micro_usd" must be a number >= 0/],
    [{ default: 'm', models: [entry({ aliases: ['x'] }), entry({ id: 'n', aliases: ['x'] })] }, /name "x" is used by m@1 and n@1/],
  ])('rejects %j', (value, message) => {
    expect(() => Registry.parse(value)).toThrow(RegistryError);
    expect(() => Registry.parse(value)).toThrow(message);
  });
});
