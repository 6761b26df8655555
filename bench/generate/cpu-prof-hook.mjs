// Loaded with `--import` (NODE_OPTIONS refuses --cpu-prof) when CPU_PROF_DIR is set: SIGUSR2 starts the CPU
// profiler, the next SIGUSR2 writes <CPU_PROF_DIR>/<pid>-<n>.cpuprofile, so a profile covers only the measured window.
// The in-thread inspector session answers synchronously.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const dir = process.env.CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 250 });
  let running = false;
  let written = 0;
  process.on('SIGUSR2', () => {
    if (!running) {
      session.post('Profiler.start');
      running = true;
      return;
    }
    session.post('Profiler.stop', (error, result) => {
      running = false;
      if (error) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${dir}/${process.pid}-${++written}.cpuprofile`, JSON.stringify(result.profile));
    });
  });
}
