/** What a benchmark needs to measure a `wrangler dev` server's CPU: a free port, its workerd processes, their CPU. */
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU in these ticks. */
const TICKS_PER_SECOND = 100;

export const freePort = () => new Promise<number>((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  });
});

/** The workerd processes below `root` (wrangler dev's process group). */
export async function workerdPids(root: number): Promise<number[]> {
  const parents = new Map<number, { ppid: number; comm: string }>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const close = stat.lastIndexOf(')');
    if (close < 0) continue;
    parents.set(Number(name), { comm: stat.slice(stat.indexOf('(') + 1, close), ppid: Number(stat.slice(close + 2).split(' ')[1]) });
  }
  const below = (pid: number): boolean => pid === root || (parents.has(pid) && pid > 1 && below(parents.get(pid)!.ppid));
  return [...parents].filter(([pid, p]) => p.comm === 'workerd' && below(pid)).map(([pid]) => pid);
}

/** User + system CPU milliseconds the processes have spent so far. */
export async function cpuMsOf(pids: number[]): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
  }
  return (ticks / TICKS_PER_SECOND) * 1000;
}
