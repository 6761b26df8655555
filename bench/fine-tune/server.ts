/**
 * `npm start`'s server (functions/node/server.ts) as a child process on 127.0.0.1 with its own SQLite file and
 * tuning folder, so the RSS read is the server's alone and a restart on the same file finds the same tenant models.
 * Open mode with billing on, as `npm start` runs; the embedded generation server off (no request here needs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from '../../functions/node/shared-paths.js';
import { listeningUrl, procStatusMb } from '../common/processes.js';

export interface BenchServer {
  url: string;
  rssMb(): Promise<number>;
  stop(): Promise<void>;
}

export async function startBenchServer(usageDb: string): Promise<BenchServer> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'functions/node/server.ts'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', USAGE_DB: usageDb, EMBEDDED_GENERATION: 'off', FINE_TUNING: 'on' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await listeningUrl(child, 'the server');
  return {
    url,
    rssMb: () => procStatusMb(child.pid, 'VmRSS'),
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
