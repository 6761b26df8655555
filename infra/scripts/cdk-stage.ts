/**
 * `npm run synth:aws|diff:aws|deploy:aws -- <stage> [cdk options]`: the CDK CLI on one stage. Each stage's stack
 * lives inside a Stage (`dev/EdgeMaas`), and the CLI's `--all` only looks at the app's top-level stacks, of which
 * there are none: stacks are selected by the pattern `<stage>/*`, and STAGE=<stage> makes the app synthesize only
 * that stage (another stage's placeholders do not block this one's deploy). synth without a stage does all stages.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAGES } from '../lib/config.js';

export const COMMANDS = ['synth', 'diff', 'deploy'] as const;
export type Command = (typeof COMMANDS)[number];

/** The stack pattern that selects one stage's stacks. */
export const stagePattern = (stage: string): string => `${stage}/*`;

export interface CdkInvocation {
  args: string[];
  env: Record<string, string>;
}

export interface CdkInvocationOptions {
  /** Passed through to the CLI after the stack pattern. */
  extra?: string[];
  /** The app's stages (default: infra/lib/config.ts). */
  stages?: string[];
}

/** What to run for `command` on `stage` (undefined: every stage, synth only). */
export function cdkInvocation(command: string, stage: string | undefined, { extra = [], stages = Object.keys(STAGES) }: CdkInvocationOptions = {}): CdkInvocation {
  if (!COMMANDS.includes(command as Command)) throw new Error(`unknown command "${command}"; one of ${COMMANDS.join(', ')}`);
  if (stage === undefined || stage.startsWith('-')) {
    if (command !== 'synth') throw new Error(`npm run ${command}:aws -- <stage>: name the stage (${stages.join(', ')})`);
    return { args: [command, ...stages.map(stagePattern), ...(stage ? [stage] : []), ...extra, ...(command === 'synth' ? ['--quiet'] : [])], env: {} };
  }
  if (!stages.includes(stage)) throw new Error(`unknown stage "${stage}"; known: ${stages.join(', ')}`);
  return { args: [command, stagePattern(stage), ...extra, ...(command === 'synth' ? ['--quiet'] : [])], env: { STAGE: stage } };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [command = '', stage, ...extra] = process.argv.slice(2);
  let invocation: CdkInvocation;
  try {
    invocation = cdkInvocation(command, stage, { extra });
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const infra = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const result = spawnSync('npx', ['--no-install', 'cdk', ...invocation.args], { cwd: infra, stdio: 'inherit', env: { ...process.env, ...invocation.env } });
  process.exit(result.status ?? 1);
}
