/**
 * Preloaded into the benchmark's server (with --expose-gc) so a memory figure is read after a full collection, not
 * whenever V8 last felt like one: on SIGUSR2 it collects twice and prints "memory <rss> <heapUsed> <external>" in
 * bytes. The server's own code is unchanged. Plain JavaScript because node passes --import to the server's worker
 * threads too, where no TypeScript loader is registered yet; there it does nothing.
 */
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  const collect = globalThis.gc;
  if (!collect) throw new Error('gc-on-signal.mjs needs node --expose-gc');
  process.on('SIGUSR2', () => {
    collect();
    collect();
    const { rss, heapUsed, external } = process.memoryUsage();
    process.stdout.write(`memory ${rss} ${heapUsed} ${external}\n`);
  });
}
