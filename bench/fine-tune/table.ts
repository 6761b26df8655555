/** The section bench:fine-tune writes into bench/RESULTS.md. */
import { cpus } from 'node:os';
import { percentile } from '../common/stats.js';
import type { TaskAccuracy } from './accuracy.js';
import type { LatencyDuringTraining } from './latency-during-training.js';
import type { TenantMemory } from './tenant-memory.js';
import type { UploadToServed } from './upload-to-served.js';

export interface LoadNote {
  part: string;
  /** 1-minute load average at the part's start and end. */
  before: number;
  after: number;
  /** What else was busy as the part began. */
  others: string;
}

export interface FineTuneResults {
  seed: number;
  runs: UploadToServed[];
  latency: LatencyDuringTraining & { jobRows: number };
  accuracy: TaskAccuracy[];
  memory: TenantMemory;
  loads: LoadNote[];
}

const s = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');
const pct = (value: number) => `${(100 * value).toFixed(1)} %`;
const median = (values: number[]) => percentile(values, 50);

function medianRun(runs: UploadToServed[]): UploadToServed {
  return [...runs].sort((a, b) => a.totalS - b.totalS)[Math.floor(runs.length / 2)]!;
}

export function resultsTable(r: FineTuneResults): string {
  const best = medianRun(r.runs);
  const idle = median(r.latency.idle);
  const training = median(r.latency.training);
  const load = (part: string) => {
    const note = r.loads.find((l) => l.part === part);
    return note ? `load average ${note.before.toFixed(1)} -> ${note.after.toFixed(1)} on ${cpus().length} cores; also busy as it began: ${note.others}` : 'load n/a';
  };
  const lines = [
    `Run ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), Node ${process.version}, seed ${r.seed}; \`npm start\`'s server as a child process (WASM, open mode, billing on, SQLite), the official \`openai\` client for files and jobs; base \`electra-imdb-small@1\`, jobs with "auto" hyperparameters.`,
    '',
    `**Upload -> served** (1,000 SST-2 train rows; ${load('upload-to-served')}):`,
    '',
    '| Run | upload s | create s | job s (encoder reads / head trains) | first classify s | total s |',
    '|---|---:|---:|---:|---:|---:|',
    ...r.runs.map((run, i) => `| ${i + 1} | ${s(run.uploadS)} | ${s(run.createS)} | ${s(run.jobS)} (${s(run.featureS)} / ${s(run.trainingS)}) | ${s(run.firstClassifyS)} | ${s(run.totalS)} |`),
    `| median | | | | | **${s(best.totalS)}** (target ≤ 60) |`,
    '',
    `**Classify p50 of \`sentiment\` while a job trains** (closed loop, 1 client, one SST-2 dev sentence per request; ${r.latency.rounds} jobs of ${r.latency.jobRows.toLocaleString('en')} SST-2 train rows, their running windows between idle windows of 10 s; ${load('latency')}):`,
    '',
    '| Window | requests | p50 ms | p99 ms |',
    '|---|---:|---:|---:|',
    `| idle | ${r.latency.idle.length} | ${idle.toFixed(2)} | ${percentile(r.latency.idle, 99).toFixed(2)} |`,
    `| a job running | ${r.latency.training.length} | ${training.toFixed(2)} | ${percentile(r.latency.training, 99).toFixed(2)} |`,
    `| ratio | | **${(training / idle).toFixed(2)}x** (target ≤ 1.5x) | |`,
    '',
    '**Accuracy on the test rows** (anchors trained on the same rows in the same run):',
    '',
    '| Task | train -> test rows | majority | bag-of-words (L2, terms) | ours | ours - bag-of-words |',
    '|---|---|---:|---:|---:|---:|',
    ...r.accuracy.map((a) => `| ${a.task.name} | ${a.task.train.length} -> ${a.task.test.length} | ${pct(a.majority.accuracy)} | ${pct(a.bagOfWords.accuracy)} (${a.bagOfWords.weightDecay}, ${a.bagOfWords.terms}) | **${pct(a.ours.accuracy)}** | ${((a.ours.accuracy - a.bagOfWords.accuracy) * 100).toFixed(1)} points |`),
    '',
    ...r.accuracy.map((a) => `- ${a.task.name}: ${a.task.description}. Majority label: ${a.majority.label}. Bag-of-words L2 on the 20 % split: ${a.bagOfWords.selection.map((x) => `${x.weightDecay}: ${pct(x.accuracy)}`).join(', ')}. Our job's own hold-out: ${a.ours.holdoutAccuracy === null ? 'n/a' : pct(a.ours.holdoutAccuracy)}.`),
    '',
    `**Memory per tenant model** (a fresh server process each round, warmed up on \`sentiment\` and on one tenant model, read after full collections (node --expose-gc, gc-on-signal.mjs; every 2 s until 3 reads agree within 0.5 MB) before and after 20 classifications: one with each of 20 other tenant models, or, as the control, 20 with the warm-up model; ${r.memory.rounds.length / 2} rounds of each, taking turns; ${load('memory')}):`,
    '',
    '| Round | RSS before -> after MB | RSS anonymous before -> after MB | V8 heap + external before -> after MB |',
    '|---|---:|---:|---:|',
    ...r.memory.rounds.map((m, i) => `| ${Math.floor(i / 2) + 1}, ${m.kind === 'tenant' ? '20 tenant models' : 'control'} | ${m.before.rss.toFixed(1)} -> ${m.after.rss.toFixed(1)} | ${m.before.rssAnon.toFixed(1)} -> ${m.after.rssAnon.toFixed(1)} | ${m.before.heap.toFixed(2)} -> ${m.after.heap.toFixed(2)} |`),
    '',
    `- Per tenant model (the largest tenant-round increase minus the largest control-round increase, over 20: memory given back mid-round only lowers a round's figure): RSS **${r.memory.perModel.rss.toFixed(2)} MB**, anonymous RSS ${r.memory.perModel.rssAnon.toFixed(2)} MB, V8 heap + external ${(r.memory.perModel.heap * 1024).toFixed(1)} KB (target ≤ 1 MB).`,
  ];
  return lines.join('\n');
}
