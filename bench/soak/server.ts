/**
 * `npm start`'s server as a child process in keys mode with its own SQLite file, so that the RSS sampled is the
 * server's alone; stopped with SIGTERM, which drains it and flushes the usage records left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from '../../functions/node/shared-paths.js';
import { listeningUrl, procStatusMb } from '../common/processes.js';

export interface SoakServer {
  url: string;
  rssMb(): Promise<number>;
  /** Lines the server wrote to stderr (errors it logged). */
  errorLines: string[];
  /** SIGTERM, then SIGKILL after `limitMs`; resolves with how it exited. */
  stop(limitMs: number): Promise<string>;
}

export async function startSoakServer(env: Record<string, string>): Promise<SoakServer> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'functions/node/server.ts'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', EDGE_MAAS_AUTH: 'keys', BILLING: 'on', EMBEDDED_GENERATION: 'on', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const errorLines: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      errorLines.push(line);
      console.error(`server: ${line}`);
    }
  });
  const url = await listeningUrl(child, 'the server');
  return {
    url,
    errorLines,
    rssMb: () => procStatusMb(child.pid, 'VmRSS'),
    stop: (limitMs) => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve('already stopped');
        return;
      }
      const started = performance.now();
      const kill = setTimeout(() => child.kill('SIGKILL'), limitMs);
      child.once('exit', (code, signal) => {
        clearTimeout(kill);
        resolve(`${signal ? `killed by ${signal}` : `exit code ${code}`} ${((performance.now() - started) / 1000).toFixed(1)} s after SIGTERM`);
      });
      child.kill('SIGTERM');
    }),
  };
}
