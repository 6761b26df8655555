/** Starts a server as a child process and measures its cold start (spawn to first classification) and peak RSS. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { repoRoot } from '../../functions/node/shared-paths.js';

export interface ServerProcess {
  url: string;
  /** The server's process id (its CPU figures are in /proc/<pid>/stat). */
  pid: number | undefined;
  /** Spawn to the first 200 from POST /v1/classify. */
  coldStartMs: number;
  peakRssMb(): Promise<number>;
  stop(): Promise<void>;
}

async function firstClassification(url: string, deadline: number): Promise<void> {
  while (performance.now() < deadline) {
    try {
      const res = await fetch(`${url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"a fine film"}' });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`${url} did not classify in time`);
}

/** The URL a server entry prints once it listens ("listening on http://…"); fails if it exits first. */
export function listeningUrl(child: ChildProcess, what: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(seen);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code} before listening`)));
  });
}

/** A memory figure of a running process from /proc/<pid>/status, in MB: VmRSS now, VmHWM its peak so far. */
export async function procStatusMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) / 1024;
}

export interface ServerProcessOptions {
  /** The checkout the script runs in (default: this one); bench:compare runs another commit's. */
  cwd?: string;
}

/** Spawns `script` with tsx; ready once it printed its URL and `probe` succeeded (default: a classification). */
export async function startServerProcess(script: string, env: Record<string, string> = {}, probe: (url: string, deadline: number) => Promise<void> = firstClassification, options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, PORT: '0', EMBEDDED_GENERATION: 'off', BILLING: 'off', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await listeningUrl(child, script);
  await probe(url, started + 60_000);
  const coldStartMs = performance.now() - started;
  return {
    url,
    pid: child.pid,
    coldStartMs,
    peakRssMb: () => procStatusMb(child.pid, 'VmHWM'),
    stop: () => new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
