/**
 * `npm start`'s server (functions/node/server.ts) as a child process on 127.0.0.1 with its own SQLite file and
 * tuning folder, so the memory read is the server's alone and a restart on the same file finds the same tenant models.
 * Open mode with billing on, as `npm start` runs; the embedded generation server off (no request here needs it).
 * gc-on-signal.mjs is preloaded so memory can be read after a full collection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { repoRoot } from '../../functions/node/shared-paths.js';
import { listeningUrl } from '../common/processes.js';

export interface MemoryAfterGc {
  /** MB, from process.memoryUsage() right after two full collections. */
  rss: number;
  /** The anonymous part of RSS (/proc/<pid>/status RssAnon): without the mapped files the kernel may page in and out. */
  rssAnon: number;
  heapUsed: number;
  external: number;
}

export interface BenchServer {
  url: string;
  pid: number;
  /** Two full collections in the server, then its memory. */
  memoryAfterGc(): Promise<MemoryAfterGc>;
  stop(): Promise<void>;
}

export async function startBenchServer(usageDb: string): Promise<BenchServer> {
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--import', './bench/fine-tune/gc-on-signal.mjs', 'functions/node/server.ts'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', USAGE_DB: usageDb, EMBEDDED_GENERATION: 'off', FINE_TUNING: 'on' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await listeningUrl(child, 'the server');
  let stopping = false;
  const memoryLines: ((line: string) => void)[] = [];
  let seen = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    seen += chunk.toString();
    for (let end = seen.indexOf('\n'); end >= 0; end = seen.indexOf('\n')) {
      const line = seen.slice(0, end);
      seen = seen.slice(end + 1);
      if (line.startsWith('memory ')) memoryLines.shift()?.(line);
    }
  });
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`the server exited on its own: ${signal ? `signal ${signal}` : `exit code ${code}`}`);
  });
  return {
    url,
    pid: child.pid!,
    memoryAfterGc: () => new Promise((resolve, reject) => {
      memoryLines.push((line) => {
        const [rss, heapUsed, external] = line.split(' ').slice(1).map((bytes) => Number(bytes) / 2 ** 20) as [number, number, number];
        readFile(`/proc/${child.pid}/status`, 'utf8').then((status) => {
          const rssAnon = Number(/RssAnon:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
          resolve({ rss, rssAnon, heapUsed, external });
        }, reject);
      });
      child.kill('SIGUSR2');
    }),
    stop: () => new Promise((resolve) => {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
