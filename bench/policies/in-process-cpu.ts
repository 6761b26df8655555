/**
 * The routers' own CPU per classification, without HTTP: 32 concurrent callers of app.request() in this process,
 * process.cpuUsage() around each run of 2,000 requests, ways taking turns. CPU time is what other processes on a
 * shared machine change least, and without the HTTP server's share the routers' difference is the larger part.
 */
import { buildWays } from './ways.js';

const BODY = JSON.stringify({ input: 'a fine film' });
const CALLERS = 32;

async function run(app: { request: (path: string, init: RequestInit) => Response | Promise<Response> }, requests: number): Promise<void> {
  let left = requests;
  await Promise.all(Array.from({ length: CALLERS }, async () => {
    while (left-- > 0) await (await app.request('/v1/classify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY })).text();
  }));
}

/** CPU ms per request of each way, per measured round (a first round warms up and is dropped). */
export async function inProcessCpu(dbPath: string, rounds = 8, requests = 2_000): Promise<number[][]> {
  const { apps, close } = await buildWays(dbPath);
  const cpu = apps.map(() => [] as number[]);
  try {
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < apps.length; k++) {
        const w = (k + round) % apps.length;
        const before = process.cpuUsage();
        await run(apps[w]!, requests);
        const used = process.cpuUsage(before);
        if (round > 0) cpu[w]!.push((used.user + used.system) / 1000 / requests);
      }
    }
  } finally {
    close();
  }
  return cpu;
}
