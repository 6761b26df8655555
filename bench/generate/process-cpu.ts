/** A process's CPU time so far, in ms, from /proc/<pid>/stat (clock ticks of 10 ms on Linux): user, system, both. */
import { readFile } from 'node:fs/promises';

const TICK_MS = 10;

export interface ProcessCpu {
  userMs: number;
  systemMs: number;
  totalMs: number;
}

export async function processCpu(pid: number | undefined): Promise<ProcessCpu> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at its closing parenthesis; utime, stime: 14, 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const userMs = Number(fields[11]) * TICK_MS;
  const systemMs = Number(fields[12]) * TICK_MS;
  return { userMs, systemMs, totalMs: userMs + systemMs };
}

/** CPU used between two readings, in µs per token. */
export const cpuPerToken = (before: ProcessCpu, after: ProcessCpu, tokens: number) => ({
  user: (1000 * (after.userMs - before.userMs)) / tokens,
  system: (1000 * (after.systemMs - before.systemMs)) / tokens,
  total: (1000 * (after.totalMs - before.totalMs)) / tokens,
});
