// Item 1 of issue 19: `npm run deploy:aws` must select the stage's stacks. Both stacks live inside Stages, and the
// CDK CLI's `--all` only takes the app's top-level stacks: the stage pattern is checked against the real CLI's
// `cdk ls` on the real app's cloud assembly.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/bin/app.js';
import { STAGES } from '../../infra/lib/config.js';
import { cdkInvocation, stagePattern } from '../../infra/scripts/cdk-stage.js';
import { repoRoot } from '../paths.js';

let assembly: string;
let topLevelStacks: number;

beforeAll(() => {
  const synthesized = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } })).synth();
  assembly = synthesized.directory;
  topLevelStacks = synthesized.stacks.length;
}, 180_000);

const cdkLs = async (...patterns: string[]) => {
  const cli = join(repoRoot, 'node_modules', 'aws-cdk', 'bin', 'cdk');
  const { stdout } = await promisify(execFile)(process.execPath, [cli, 'ls', '--app', assembly, '--no-notices', ...patterns], {
    cwd: assembly, env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
  });
  return stdout.trim().split('\n').map((line) => line.split(' ')[0]).filter(Boolean);
};

describe('stage-selecting CDK commands', () => {
  it('the app has no top-level stack, which is all that `cdk deploy --all` would deploy', () => {
    expect(topLevelStacks).toBe(0);
  });

  it('select exactly one stage\'s stack through the real CLI, for every stage', async () => {
    for (const stage of Object.keys(STAGES)) {
      const { args, env } = cdkInvocation('deploy', stage);
      expect(args).toEqual(['deploy', stagePattern(stage)]);
      expect(env).toEqual({ STAGE: stage });
      expect(await cdkLs(args[1]!)).toEqual([`${stage}/EdgeMaas`]);
    }
  }, 120_000);

  it('synth without a stage covers every stage; deploy and diff insist on one', async () => {
    const { args } = cdkInvocation('synth', undefined);
    expect((await cdkLs(...args.filter((a) => a.includes('/')))).sort()).toEqual(Object.keys(STAGES).map((s) => `${s}/EdgeMaas`).sort());
    expect(() => cdkInvocation('deploy', undefined)).toThrow(/name the stage/);
    expect(() => cdkInvocation('diff', 'staging')).toThrow(/unknown stage "staging"/);
    expect(cdkInvocation('deploy', 'prod', { extra: ['--require-approval', 'broadening'] }).args).toEqual(['deploy', 'prod/*', '--require-approval', 'broadening']);
  }, 60_000);

  it('are what the package.json scripts run', async () => {
    const { scripts } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    for (const command of ['synth', 'diff', 'deploy']) expect(scripts[`${command}:aws`]).toBe(`tsx infra/scripts/cdk-stage.ts ${command}`);
  });
});
