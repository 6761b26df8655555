/**
 * bench/fine-tune: issue 12's targets, measured end to end through `npm start`'s server on 127.0.0.1 with the
 * official openai client, and written into bench/RESULTS.md:
 * 1. upload 1,000 SST-2 rows -> job succeeded -> first classification with the new model, 3 runs (median);
 * 2. classify p50 of the default model while a job trains vs idle, interleaved;
 * 3. accuracy on three tasks against the majority class and bag-of-words, trained on the same rows in this run;
 * 4. RSS with 0 vs 20 tenant models served.
 * The data sets and the bag-of-words anchors are made before the server starts, so they never share the cores
 * with a timed part. Takes about 7 minutes on 2 cores. SEED sets every sample and job (default 2026).
 * Usage: npm run bench:fine-tune
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { devSentences } from '../classify/sentences.js';
import { writeResultsSection } from '../common/results.js';
import { anchors, ourAccuracy, type Anchors, type TaskAccuracy } from './accuracy.js';
import { openaiClient, uploadRows } from './api.js';
import { imdbRatingsTask, readSst2Train, seededSample, sst2Task, type Task } from './datasets.js';
import { domainTask } from './domain-task.js';
import { latencyDuringTraining } from './latency-during-training.js';
import { startBenchServer } from './server.js';
import { resultsTable, type LoadNote } from './table.js';
import { ROWS_PER_MODEL, tenantMemory, trainSmallModels, TENANT_MODELS } from './tenant-memory.js';
import { uploadToServed, type UploadToServed } from './upload-to-served.js';

const seed = Number(process.env.SEED ?? 2026);
const RUNS = 3;
const LATENCY_JOB_ROWS = 8_000;

const loads: LoadNote[] = [];
/** Runs a timed part, noting the load average around it and what else was busy as it began. */
async function timedPart<T>(part: string, ourPids: number[], work: () => Promise<T>): Promise<T> {
  const others = otherLoad(ourPids);
  const before = loadavg()[0]!;
  console.log(`${part}: start, load average ${before.toFixed(2)}; also busy: ${others}`);
  const result = await work();
  loads.push({ part, before, after: loadavg()[0]!, others });
  console.log(`${part}: done, load average ${loadavg()[0]!.toFixed(2)}`);
  return result;
}

/**
 * Processes using 20 %+ of a core over one second (top's second sample: its first is since each process started),
 * other than this benchmark and its server, for the table's note on each timed part.
 */
function otherLoad(ours: number[]): string {
  const top = execFileSync('top', ['-b', '-n', '2', '-d', '1', '-w', '200'], { encoding: 'utf8' });
  const second = top.slice(top.lastIndexOf('\ntop -'));
  const skip = new Set([process.pid, ...ours]);
  const busy = second.split('\n').map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 12 && /^\d+$/.test(cols[0]!) && !skip.has(Number(cols[0])) && Number(cols[8]) >= 20)
    .map((cols) => `${cols[11]} (nice ${cols[3]}) ${Number(cols[8]).toFixed(0)} %`);
  return busy.length === 0 ? 'nothing else over 20 % of a core' : busy.join(', ');
}

async function main(): Promise<void> {
  const sst2 = await sst2Task(seed);
  const tasks: Task[] = [sst2, await imdbRatingsTask(seed), await domainTask(seed, { exclude: sst2.train })];
  const anchorsOf: Anchors[] = [];
  for (const task of tasks) anchorsOf.push(await anchors(task, seed));
  const sentences = await devSentences(872);
  const excluded = new Set(sst2.train.map((row) => row.text));
  const latencyRows = seededSample(await readSst2Train(), LATENCY_JOB_ROWS, seed + 8);
  const smallRows = seededSample((await readSst2Train()).filter((row) => !excluded.has(row.text)), (TENANT_MODELS + 1) * ROWS_PER_MODEL, seed + 7);

  const dir = await mkdtemp(join(tmpdir(), 'edge-maas-bench-fine-tune-'));
  const usageDb = join(dir, 'edge-maas.sqlite');
  const server = await startBenchServer(usageDb);
  try {
    const client = openaiClient(server.url);
    const runs: UploadToServed[] = await timedPart('upload-to-served', [server.pid], async () => {
      const done: UploadToServed[] = [];
      for (let i = 0; i < RUNS; i++) {
        const run = await uploadToServed(server.url, client, sst2.train, seed + i, `e2e${i}`);
        console.log(`run ${i + 1}: total ${run.totalS.toFixed(1)} s (job ${run.jobS.toFixed(1)} s: encoder ${run.featureS.toFixed(1)} s, head ${run.trainingS.toFixed(1)} s)`);
        done.push(run);
      }
      return done;
    });
    // A longer job than the 1,000 rows (about 2 s here) so each training window holds enough requests for a p50.
    const trainingFile = await uploadRows(client, latencyRows);
    const latency = await timedPart('latency', [server.pid], () => latencyDuringTraining(server.url, client, sentences, trainingFile, { rounds: 3, idleSeconds: 10, seed: seed + 10 }));

    const accuracy: TaskAccuracy[] = [];
    for (const [k, task] of tasks.entries()) {
      // Task (a)'s model is the first upload-to-served run's: the same rows, the same seed.
      const trained = k === 0 ? { model: runs[0]!.model, holdoutAccuracy: runs[0]!.holdoutAccuracy } : undefined;
      accuracy.push({ task, ...anchorsOf[k]!, ours: await ourAccuracy(server.url, client, task, seed, `task${k}`, trained) });
    }

    const models = await trainSmallModels(client, smallRows, seed + 20);
    await server.stop();
    const memory = await timedPart('memory', [], () => tenantMemory(() => startBenchServer(usageDb), models, sentences));
    console.log(`memory: ${memory.perModel.rss.toFixed(3)} MB RSS per model, heap + external ${(memory.perModel.heap * 1024).toFixed(1)} KB`);

    const table = resultsTable({ seed, runs, latency: { ...latency, jobRows: LATENCY_JOB_ROWS }, accuracy, memory, loads });
    console.log(`\n${table}`);
    await writeResultsSection('fine-tune', 'Fine-tuning: `npm run bench:fine-tune`', table);
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
