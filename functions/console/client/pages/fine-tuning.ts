/**
 * Fine-tuning through the Files and fine-tuning API: a JSON-lines file checked line by line in the page (the server
 * checks it again and names the line), uploaded, a job started on a base encoder, its progress and loss followed
 * live from the job's event stream, the result's per-label metrics, and "try it" in the playground.
 */
import { signInFirst } from '../auth-mode.js';
import { ApiProblem, call, messageOf, problemOf, send } from '../api.js';
import { liveLineChart, type LiveLine } from '../chart.js';
import { field, h, notice, show } from '../dom.js';
import { count, percent } from '../format.js';
import { listModels } from '../models.js';
import { readEvents } from '../sse.js';

interface Job {
  id: string; status: string; model: string; fine_tuned_model: string | null; created_at: number; trained_tokens: number | null;
  error: { message: string } | null;
  result: { holdout_accuracy: number; per_label: { label: string; precision: number; recall: number; support: number }[]; majority_baseline: { label: string; accuracy: number } } | null;
}
interface JobEvent { message: string; level: string; data: { phase?: string; step?: number; total_steps?: number; epoch?: number; train_loss?: number; holdout_accuracy?: number } | null }

const MAX_SHOWN_ERRORS = 20;

export interface FileCheck {
  rows: number;
  labels: Map<string, number>;
  errors: { line: number; message: string }[];
}

/** The training file's lines as the server reads them: {"text": "...", "label": "..."}, one per line. */
export function checkTrainingFile(text: string): FileCheck {
  const check: FileCheck = { rows: 0, labels: new Map(), errors: [] };
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const at = i + 1;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      check.errors.push({ line: at, message: 'not JSON' });
      return;
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row)) return void check.errors.push({ line: at, message: 'not a JSON object' });
    const { text: t, label } = row as { text?: unknown; label?: unknown };
    if (typeof t !== 'string' || t.trim() === '') return void check.errors.push({ line: at, message: '"text" must be a non-empty string' });
    if (typeof label !== 'string' || label.trim() === '') return void check.errors.push({ line: at, message: '"label" must be a non-empty string' });
    check.rows += 1;
    check.labels.set(label, (check.labels.get(label) ?? 0) + 1);
  });
  if (check.errors.length === 0 && check.rows === 0) check.errors.push({ line: 0, message: 'the file has no lines' });
  else if (check.errors.length === 0 && check.labels.size < 2) check.errors.push({ line: 0, message: 'a classifier needs at least 2 labels' });
  return check;
}

function metricsTable(job: Job): HTMLElement {
  const result = job.result!;
  return h('div', { className: 'table-wrap' }, h('table', { className: 'data', 'data-metrics': 'per-label' },
    h('caption', {}, `Hold-out accuracy ${percent(result.holdout_accuracy)} (always "${result.majority_baseline.label}": ${percent(result.majority_baseline.accuracy)})`),
    h('thead', {}, h('tr', {}, ['Label', 'Precision', 'Recall', 'Support'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, result.per_label.map((m) => h('tr', { 'data-label': m.label }, h('th', { scope: 'row' }, m.label),
      h('td', {}, percent(m.precision)), h('td', {}, percent(m.recall)), h('td', {}, count(m.support)))))));
}

/** Follows one job's event stream into the given region until the job is done. */
async function follow(jobId: string, region: HTMLElement): Promise<void> {
  const status = h('p', { className: 'meta', role: 'status' }, `Job ${jobId}: waiting for its first event…`);
  const bar = h('progress', { className: 'progress', max: 1, value: 0, 'aria-label': 'Training progress' });
  const width = Math.max(240, (region.clientWidth || 600) - 28);
  const loss: LiveLine = liveLineChart('Training loss', 'step', '#dc2626', width);
  let accuracy: LiveLine | null = null;
  const charts = h('div', { className: 'charts' }, loss.element);
  const outcome = h('div');
  show(region, h('section', { className: 'card', 'aria-label': 'Training job' }, h('h2', {}, `Job ${jobId}`), status, bar, charts, outcome));
  let done: Job | null = null;
  try {
    const response = await send(`/v1/fine_tuning/jobs/${encodeURIComponent(jobId)}/events?stream=true`);
    if (!response.ok) throw await problemOf(response);
    await readEvents(response, ({ event, data }) => {
      if (event === 'done') {
        done = JSON.parse(data) as Job;
        return;
      }
      if (event === 'shutdown') throw new ApiProblem('the server is shutting down; reload the page to follow the job on', null);
      const e = JSON.parse(data) as JobEvent;
      status.textContent = e.message;
      const d = e.data;
      if (d?.step !== undefined && d.total_steps) {
        // Reading features is the first half of the bar, the optimiser's steps the second.
        bar.value = d.phase === 'features' ? 0.5 * d.step / d.total_steps : 0.5 + 0.5 * d.step / d.total_steps;
      }
      if (d?.train_loss !== undefined && d.step !== undefined) loss.add(d.step, d.train_loss);
      if (d?.holdout_accuracy !== undefined && d.epoch !== undefined) {
        if (!accuracy) charts.append((accuracy = liveLineChart('Hold-out accuracy', 'epoch', '#2563eb', width)).element);
        accuracy.add(d.epoch, d.holdout_accuracy);
      }
    });
  } catch (error) {
    const cut = error instanceof TypeError;
    return show(outcome, notice('error', cut ? 'The connection to the server was lost while following the job: reload the page to follow it on.' : `Following the job failed: ${messageOf(error)}`));
  }
  const job = done as Job | null;
  if (!job) return show(outcome, notice('error', 'The event stream ended before the job did: reload the page to follow it on.'));
  if (job.status !== 'succeeded') {
    bar.value = bar.value || 0;
    return show(outcome, notice('error', `The job ${job.status}${job.error ? `: ${job.error.message}` : '.'}`));
  }
  bar.value = 1;
  status.textContent = `Done: ${job.fine_tuned_model}`;
  show(outcome, job.result ? metricsTable(job) : null,
    h('p', {}, h('a', { className: 'button-link', href: `/console/playground?model=${encodeURIComponent(job.fine_tuned_model ?? '')}` }, `Try ${job.fine_tuned_model} in the playground`)));
}

async function jobList(region: HTMLElement, followRegion: HTMLElement): Promise<void> {
  try {
    const jobs = (await call<{ data: Job[] }>('/v1/fine_tuning/jobs?limit=10')).data;
    show(region, jobs.length === 0 ? h('p', { className: 'meta' }, 'No jobs yet.') : h('div', { className: 'table-wrap' }, h('table', { className: 'data' },
      h('caption', {}, 'Your latest jobs'),
      h('thead', {}, h('tr', {}, ['Job', 'Base', 'Status', 'Model', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, jobs.map((job) => h('tr', {}, h('th', { scope: 'row' }, h('code', {}, job.id)), h('td', {}, job.model), h('td', {}, job.status),
        h('td', {}, job.fine_tuned_model ? h('a', { href: `/console/playground?model=${encodeURIComponent(job.fine_tuned_model)}` }, job.fine_tuned_model) : '—'),
        h('td', {}, h('button', { type: 'button', className: 'secondary', 'aria-label': `Show job ${job.id}`, onclick: () => void follow(job.id, followRegion) }, 'Show'))))))));
  } catch (error) {
    show(region, notice('error', `The jobs could not be listed: ${messageOf(error)}`));
  }
}

export async function mountFineTuning(root: HTMLElement): Promise<void> {
  const first = signInFirst('Fine-tuning');
  if (first) return show(root, first);
  // The fine-tuning API may be off on this server: its job list answers 404 then.
  const probe = await send('/v1/fine_tuning/jobs?limit=1');
  if (probe.status === 404) return show(root, notice('info', 'Fine-tuning is not available on this server (its fine-tuning API is off).'));
  if (!probe.ok) return show(root, notice('error', `Fine-tuning could not be reached: ${(await problemOf(probe)).message}`));
  let bases: string[] = [];
  try {
    bases = (await listModels()).filter((m) => m.task === 'feature-extraction').map((m) => m.id);
  } catch (error) {
    return show(root, notice('error', `The models could not be listed: ${messageOf(error)}`));
  }
  const file = h('input', { type: 'file', name: 'training-file', accept: '.jsonl,.json,.txt,application/jsonl,application/x-ndjson' });
  const base = h('select', { name: 'base' }, bases.map((b) => h('option', { value: b }, b)));
  const epochs = h('input', { type: 'number', name: 'epochs', min: 1, max: 50, placeholder: 'auto' });
  const checked = h('div', { 'aria-live': 'polite' });
  const start = h('button', { type: 'submit', disabled: true }, 'Upload and start training');
  const followRegion = h('div');
  const jobs = h('div');
  let contents: File | null = null;
  file.addEventListener('change', async () => {
    start.disabled = true;
    contents = file.files?.[0] ?? null;
    if (!contents) return show(checked);
    const check = checkTrainingFile(await contents.text());
    if (check.errors.length > 0) {
      return show(checked, h('div', { className: 'notice error', role: 'alert' },
        h('p', {}, `${contents.name} is not a training file: ${check.errors.length} problem${check.errors.length === 1 ? '' : 's'}. Each line must be {"text": "...", "label": "..."}.`),
        h('ul', { className: 'errors' }, check.errors.slice(0, MAX_SHOWN_ERRORS).map((e) => h('li', {}, e.line > 0 ? `line ${e.line}: ${e.message}` : e.message))),
        check.errors.length > MAX_SHOWN_ERRORS ? h('p', {}, `…and ${check.errors.length - MAX_SHOWN_ERRORS} more.`) : null));
    }
    show(checked, notice('ok', `${contents.name}: ${count(check.rows)} examples, labels ${[...check.labels].map(([l, n]) => `${l} (${n})`).join(', ')}.`));
    start.disabled = false;
  });
  const form = h('form', { className: 'card', 'aria-label': 'New fine-tuning job' },
    field('Training file (JSON lines)', file, 'One {"text": "...", "label": "..."} per line; at least 2 labels.'),
    h('div', { className: 'row' }, field('Base encoder', base), field('Epochs', epochs, 'Empty: the server picks.')),
    checked, h('div', { className: 'actions' }, start));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!contents) return;
    start.disabled = true;
    show(followRegion, notice('info', 'Uploading…'));
    try {
      const upload = new FormData();
      upload.set('purpose', 'fine-tune');
      upload.set('file', contents, contents.name);
      const uploaded = await call<{ id: string }>('/v1/files', { form: upload });
      const n = epochs.value.trim() === '' ? undefined : Number(epochs.value);
      const job = await call<Job>('/v1/fine_tuning/jobs', { body: { model: base.value, training_file: uploaded.id, ...(n ? { hyperparameters: { n_epochs: n } } : {}) } });
      void jobList(jobs, followRegion);
      await follow(job.id, followRegion);
      void jobList(jobs, followRegion);
    } catch (error) {
      show(followRegion, notice('error', `The job was not started: ${messageOf(error)}`));
    } finally {
      start.disabled = false;
    }
  });
  show(root, bases.length === 0 ? notice('info', 'This server has no base encoder (a feature-extraction model) to fine-tune.') : form, followRegion, jobs);
  await jobList(jobs, followRegion);
}
