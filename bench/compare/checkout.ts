/**
 * Another commit of this repository beside it, for side-by-side benchmarks: a detached git worktree under the
 * system's temp folder, sharing this checkout's node_modules (the dependencies must be the same for a fair run).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../functions/node/shared-paths.js';

const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();

export function checkoutOf(ref: string): { dir: string; commit: string } {
  const commit = git('rev-parse', '--verify', `${ref}^{commit}`);
  const dir = join(tmpdir(), `edge-maas-${commit.slice(0, 12)}`);
  if (!existsSync(join(dir, 'package.json'))) git('worktree', 'add', '--detach', '--force', dir, commit);
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { dir, commit };
}
