import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { sst2BertDir, repoRoot, sharedDir } from '../paths.js';

const run = promisify(execFile);
const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');

async function cli(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(tsx, [join(repoRoot, 'models', 'tools', script), ...args], { cwd: repoRoot });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const scratch = await mkdtemp(join(tmpdir(), 'edge-maas-cli-'));
const notOnnx = join(scratch, 'not-a-model.onnx');
await writeFile(notOnnx, 'this is text, not protobuf');

describe('model commands fail with one clear line on bad input', () => {
  it.each([
    ['quantize-cli.ts', [], /^error: usage: npm run models:quantize/],
    ['quantize-cli.ts', [join(scratch, 'missing.onnx'), join(scratch, 'out.onnx')], /^error: ONNX model not found: /],
    ['quantize-cli.ts', [notOnnx, join(scratch, 'out.onnx')], /^error: not an ONNX model/],
    ['quantize-cli.ts', [join(sharedDir, 'models', 'stories260K', 'onnx', 'model.onnx'), join(scratch, 'out.onnx')], /^error: not a BERT-like model/],
    ['quantize-cli.ts', [notOnnx, join(scratch, 'out.onnx'), '--min-embedding-rows=-3'], /^error: --min-embedding-rows must be a positive integer/],
    ['quantize-cli.ts', [notOnnx, join(scratch, 'out.onnx'), '--weights', 'int4'], /^error: --weights must be one of uint8, int8-reduce-range, int8/],
    ['eval-cli.ts', [], /^error: usage: npm run models:eval/],
    ['eval-cli.ts', [scratch], /^error: .* is not a model folder: config.json is missing/],
    ['eval-cli.ts', [sst2BertDir, '--data', join(scratch, 'missing.tsv')], /^error: data file not found/],
    ['eval-cli.ts', [sst2BertDir, '--variants', 'model_fp16'], /^error: .* has no onnx\/model_fp16.onnx/],
  ])('%s %j', async (script, args, message) => {
    const { code, stderr } = await cli(script, args as string[]);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr.trim()).toMatch(message);
  });

  it('quantizes a real model end to end and reports what it did', async () => {
    const out = join(scratch, 'model_quantized.onnx');
    const { code, stdout } = await cli('quantize-cli.ts', [join(sst2BertDir, 'onnx', 'model.onnx'), out]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/quantized \d+ MatMul, \d+ Gemm \(uint8 weights\) and \d+ embedding tables to int8/);
  });
});
