/**
 * bench/explain: issue 13's targets for explanations, measured in one run and written into bench/RESULTS.md:
 * 1. faithfulness on SST-2 dev with the default model in process, through the routes' explain code: deletion and
 *    insertion against random words, and the model-randomisation sanity check;
 * 2. latency of plain against explained requests over HTTP for both ORT backends, and plain latency against the
 *    commit before the feature, servers side by side, requests interleaved.
 * --quick: 40 sentences, and 40 rounds per latency series instead of 400 (development). SEED (default 2026)
 * seeds the random words and the randomised layers (SEED, +1, +2). --backend node|wasm: the in-process runtime for
 * part 1 (default node: ~4x faster here). --only sanity: the sanity check alone, rewriting only its block of the
 * section (the rest keeps the full run's figures). The sanity check takes about 12 minutes on 2 busy cores (21
 * randomised models explain every sentence); the full run adds faithfulness and latency, a few minutes more.
 * Usage: npm run bench:explain [-- --quick] [--backend wasm] [--only sanity]
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readLabelledTsv } from '../../models/tools/labelled-tsv.js';
import { repoRoot } from '../../functions/node/shared-paths.js';
import type { OrtBackend } from '../../functions/node/load-classifier.js';
import { checkoutOf } from '../compare/checkout.js';
import { writeResultsSection } from '../common/results.js';
import { devTsv } from '../../test/paths.js';
import { loadDefaultModel } from './default-model.js';
import { explainTexts } from './explain-texts.js';
import { faithfulness } from './faithfulness.js';
import { backendLatency, type BackendLatency } from './latency.js';
import { sanityCheck } from './sanity-check.js';
import { SANITY_MARKERS, sanityBlock } from './sanity-table.js';
import { resultsTable, type RunNotes } from './table.js';

/** The last commit before explanations (de48b75 added them). */
const BEFORE = '96722e5';
const DRAWS = 3;

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, backend: { type: 'string' }, only: { type: 'string' } } });
const quick = values.quick ?? false;
const inProcess = (values.backend ?? 'node') as OrtBackend;
if (inProcess !== 'node' && inProcess !== 'wasm') throw new Error(`--backend is node or wasm, not ${inProcess}`);
if (values.only !== undefined && values.only !== 'sanity') throw new Error(`--only takes sanity, not ${values.only}`);
const seed = Number(process.env.SEED ?? 2026);
const flags = [...(quick ? ['--quick'] : []), ...(values.backend ? [`--backend ${inProcess}`] : []), ...(values.only ? [`--only ${values.only}`] : [])];
const command = `npm run bench:explain${flags.length > 0 ? ` -- ${flags.join(' ')}` : ''}`;

const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
// Uncommitted changes under these paths, beyond HEAD (other work in progress in the tree). Not git(): its trim would
// take the first line's leading status column.
const dirtyUnder = (...paths: string[]) => execFileSync('git', ['status', '--porcelain', '--', ...paths], { cwd: repoRoot, encoding: 'utf8' })
  .split('\n').filter(Boolean).map((line) => line.slice(3));
const loads: RunNotes['loads'] = [];
async function part<T>(name: string, work: () => Promise<T>): Promise<T> {
  const before = loadavg()[0]!;
  const started = performance.now();
  console.log(`${name}: start, load average ${before.toFixed(2)}`);
  const result = await work();
  loads.push({ part: name, before, after: loadavg()[0]! });
  console.log(`${name}: done in ${((performance.now() - started) / 1000).toFixed(0)} s, load average ${loadavg()[0]!.toFixed(2)}`);
  return result;
}

/** The sanity check alone: its block of the section rewritten, the rest of the section left as the full run wrote it. */
async function sanityOnly(): Promise<void> {
  const rows = await readLabelledTsv(devTsv);
  const dev = quick ? rows.slice(0, 40) : rows;
  const texts = dev.map((r) => r.text);
  const trained = await loadDefaultModel(inProcess);
  const sanity = await part('sanity check', async () => {
    const explained = await explainTexts(trained.engine, texts);
    return sanityCheck(trained.engine, explained, texts, dev.map((r) => r.label), { seeds: [seed, seed + 1, seed + 2], backend: inProcess });
  });
  const load = loads[0]!;
  const block = sanityBlock(sanity, {
    date: `${new Date().toISOString().slice(0, 16)}Z`, commit: git('rev-parse', '--short', 'HEAD'),
    dirty: dirtyUnder('functions', 'models', 'bench/explain'), command, load,
  });
  console.log(`\n${block}`);
  if (quick) return;
  const results = await readFile(join(repoRoot, 'bench', 'RESULTS.md'), 'utf8');
  if (!results.includes(`<!-- bench:${SANITY_MARKERS}:start -->`)) throw new Error('bench/RESULTS.md has no sanity-check block to rewrite: run the whole benchmark');
  await writeResultsSection(SANITY_MARKERS, 'unused: the block exists', block);
}

async function main(): Promise<void> {
  const rows = await readLabelledTsv(devTsv);
  const dev = quick ? rows.slice(0, 40) : rows;
  const texts = dev.map((r) => r.text);
  const trained = await loadDefaultModel(inProcess);

  const { explained, faith } = await part('faithfulness', async () => {
    const explained = await explainTexts(trained.engine, texts);
    return { explained, faith: await faithfulness(trained.engine, explained, { seed, draws: DRAWS }) };
  });
  console.log(JSON.stringify(faith));

  const gold = dev.map((r) => r.label);
  const sanity = await part('sanity check', () => sanityCheck(trained.engine, explained, texts, gold, { seeds: [seed, seed + 1, seed + 2], backend: inProcess }));
  console.log(JSON.stringify(sanity));

  const before = checkoutOf(BEFORE);
  // What this checkout's servers run.
  const dirty = dirtyUnder('functions', 'models');
  const sentences = { explained: texts.slice(0, quick ? 40 : 400), plainOnly: texts.slice(0, quick ? 40 : 400) };
  const latency: BackendLatency[] = [];
  for (const backend of ['wasm', 'node'] as const) {
    latency.push(await part(`latency ${backend}`, () => backendLatency(backend, sentences, before.dir)));
    console.log(JSON.stringify(latency.at(-1)));
  }

  const notes: RunNotes = {
    date: `${new Date().toISOString().slice(0, 16)}Z`,
    commit: git('rev-parse', '--short', 'HEAD'),
    dirty,
    command,
    cores: `${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'})`,
    node: process.version,
    seed, draws: DRAWS, model: trained.name, inProcessBackend: inProcess, sentences: texts.length,
    beforeCommit: before.commit.slice(0, 7), loads,
  };
  const table = resultsTable(notes, faith, sanity, latency);
  console.log(`\n${table}`);
  if (!quick) await writeResultsSection('explain', 'Explanations (issue 13): `npm run bench:explain`', table);
}

await (values.only === 'sanity' ? sanityOnly() : main());
