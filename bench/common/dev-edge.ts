/**
 * `npm run dev:edge`: the Worker in workerd (wrangler dev) on http://127.0.0.1:8788, ready for a new user on a
 * fresh clone: the local D1 gets migrations/ applied first (offline, no account), and the Worker runs in open
 * mode (no API keys; requests are still metered into the local D1). `--keys` keeps wrangler.toml's keys mode.
 * The benchmark and the tests start it the same way, with their own port and state folder.
 * Usage: npm run dev:edge [-- --port 8788] [--persist-to .wrangler/state] [--keys]
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { repoRoot } from '../../functions/node/shared-paths.js';

export interface DevEdgeOptions {
  port?: number;
  /** wrangler's local state (D1, Durable Objects); default .wrangler/state. */
  persistTo?: string;
  auth?: 'open' | 'keys';
  /** Where wrangler's output goes: 'inherit' for a terminal, 'pipe' to read it. */
  stdio?: 'inherit' | 'pipe';
}

export const DEV_EDGE_PORT = 8788;
const wranglerEnv = { ...process.env, WRANGLER_SEND_METRICS: 'false' };
const wrangler = (args: string[]) => ['wrangler', ...args];

/** Applies migrations/ to the local D1 (non-interactively: wrangler asks before applying in a terminal). */
export async function migrateLocalD1(persistTo?: string): Promise<void> {
  const args = wrangler(['d1', 'migrations', 'apply', 'DB', '--local', ...(persistTo ? ['--persist-to', persistTo] : [])]);
  await promisify(execFile)('npx', args, { cwd: repoRoot, env: { ...wranglerEnv, CI: '1' } });
}

/** Migrates the local D1, then starts wrangler dev in its own process group (stop it with stopDevEdge). */
export async function startDevEdge(options: DevEdgeOptions = {}): Promise<ChildProcess> {
  await migrateLocalD1(options.persistTo);
  const args = wrangler([
    'dev', '--ip', '127.0.0.1', '--port', String(options.port ?? DEV_EDGE_PORT),
    ...(options.persistTo ? ['--persist-to', options.persistTo] : []),
    ...(options.auth === 'keys' ? [] : ['--var', 'AUTH_MODE:open']),
  ]);
  const stdio = options.stdio ?? 'pipe';
  return spawn('npx', args, { cwd: repoRoot, env: wranglerEnv, stdio: ['ignore', stdio, stdio], detached: true });
}

/** Resolves once wrangler dev says it is ready; rejects if it exits first. */
export function devEdgeReady(child: ChildProcess): Promise<void> {
  return new Promise((resolveReady, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (/Ready on/.test(seen)) resolveReady();
    });
    child.once('exit', (code) => reject(new Error(`wrangler dev exited with ${code}: ${seen.slice(-2_000)}`)));
  });
}

export function stopDevEdge(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  process.kill(-child.pid!, 'SIGTERM');
  return exited;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: 'string' }, 'persist-to': { type: 'string' }, keys: { type: 'boolean' } } });
  const port = Number(values.port ?? DEV_EDGE_PORT);
  const auth = values.keys ? 'keys' : 'open';
  console.log(`applying migrations/ to the local D1 (${values['persist-to'] ?? '.wrangler/state'})`);
  const child = await startDevEdge({ port, persistTo: values['persist-to'], auth, stdio: 'inherit' });
  console.log(auth === 'open'
    ? `open mode: no API keys are required on http://127.0.0.1:${port}; requests are metered into the local D1 (npm run dev:edge -- --keys requires keys, as deployed)`
    : `keys mode: every API request needs a key from the local D1`);
  const stop = () => void stopDevEdge(child).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  child.once('exit', (code) => process.exit(code ?? 0));
}
