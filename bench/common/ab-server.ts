/** An A/B bench server (bench/<name>/ab-server.ts) as a child process: the words of its "listening on ..." line. */
import { spawn } from 'node:child_process';
import { repoRoot } from '../../functions/node/shared-paths.js';

export interface AbServer {
  /** What the server printed after "listening on ", split at spaces (its URLs, and anything it made, e.g. a key). */
  words: string[];
  pid: number;
  stop(): Promise<void>;
}

export async function startAbServer(script: string, env: Record<string, string>): Promise<AbServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (.+)\n/.exec(seen);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { words: line.split(' '), pid: child.pid!, stop: () => new Promise<void>((done) => { child.once('exit', () => done()); child.kill('SIGTERM'); }) };
}
