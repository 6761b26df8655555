/**
 * One of our entries (`npm start`, `npm run start:generation`) as a child process on a port the OS picks (PORT=0):
 * resolves with the URL the entry prints once it listens, so tests never guess a free port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from '../paths.js';

export interface SpawnedEntry {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

export async function spawnEntry(entry: string, env: Record<string, string> = {}): Promise<SpawnedEntry> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const kill = (signal: NodeJS.Signals = 'SIGKILL') => void (child.exitCode === null && child.kill(signal));
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (https?:\/\/[\w.:[\]-]+)/.exec(seen);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`${entry} exited with ${code} before listening: ${seen.slice(-500)}`)));
  });
  return { url, child, exited, kill };
}
