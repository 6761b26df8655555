/** bench/explain's section of bench/RESULTS.md: the figures, then each target read against them (the sanity check's in its block). */
import { ms } from '../common/stats.js';
import { DELETIONS, FRACTIONS, type Faithfulness } from './faithfulness.js';
import type { BackendLatency } from './latency.js';
import type { Sanity } from './sanity-check.js';
import { SANITY_MARKERS, sanityBlock } from './sanity-table.js';

export interface RunNotes {
  date: string;
  commit: string;
  /** Uncommitted changes under functions/ and models/ that this checkout's server ran with. */
  dirty: string[];
  command: string;
  cores: string;
  node: string;
  seed: number;
  draws: number;
  model: string;
  inProcessBackend: string;
  sentences: number;
  beforeCommit: string;
  /** One-minute load average at the start and end of each part. */
  loads: { part: string; before: number; after: number }[];
}

const f3 = (x: number) => x.toFixed(3);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
/** The smallest slowdown the A/A control is taken to allow: two identical servers' p50s differ this much here. */
const NOISE_FLOOR = 0.05;
const met = (ok: boolean) => (ok ? 'met' : 'missed');
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export function resultsTable(notes: RunNotes, faith: Faithfulness, sanity: Sanity, latency: BackendLatency[]): string {
  const top20 = DELETIONS.findIndex((d) => d.name === 'top 20 % of words');
  const top20Ratio = faith.deletion.attribution[top20]! / faith.deletion.random[top20]!;
  const shown = [0.1, 0.2, 0.3, 0.5, 0.7].map((f) => FRACTIONS.indexOf(f));
  const dirty = notes.dirty.length === 0 ? 'no uncommitted changes under functions/ or models/' : `uncommitted changes in ${notes.dirty.join(', ')}`;
  const lines = [
    `Run ${notes.date} on ${notes.cores}, Node ${notes.node}; commit ${notes.commit} (${dirty}); \`${notes.command}\`; seed ${notes.seed}.`,
    `Load average (1 min) per part: ${notes.loads.map((l) => `${l.part} ${l.before.toFixed(2)} → ${l.after.toFixed(2)}`).join('; ')}.`,
    '',
    `**Faithfulness** on ${notes.sentences} SST-2 dev sentences (${faith.texts} with words), ${notes.model} in process (onnxruntime-${notes.inProcessBackend}) through`,
    'planExplanations/explainResults (softmax); words from wordSpans, deleted as occlusion deletes them. Random: the same number of words,',
    `${notes.draws} seeded orders per sentence, averaged. Mean probability of the predicted label on the full text: ${f3(faith.baseProbability)}.`,
    '',
    '| deletion | mean drop, by attribution | mean drop, random words | attribution / random |',
    '|---|---:|---:|---:|',
    ...DELETIONS.map((d, j) => `| ${d.name} | ${f3(faith.deletion.attribution[j]!)} | ${f3(faith.deletion.random[j]!)} | ${ratio(faith.deletion.attribution[j]!, faith.deletion.random[j]!)} |`),
    '',
    `| insertion (from all words deleted) | AUC | ${shown.map((j) => `p at ${FRACTIONS[j]!.toFixed(1)}`).join(' | ')} | p at 0 | p at 1 |`,
    `|---|---:|${shown.map(() => '---:').join('|')}|---:|---:|`,
    ...(['attribution', 'random'] as const).map((order) =>
      `| ${order === 'attribution' ? 'by attribution' : 'random order'} | ${f3(faith.insertionAuc[order])} | ${shown.map((j) => f3(faith.insertion[order][j]!)).join(' | ')} | ${f3(faith.insertion[order][0]!)} | ${f3(faith.insertion[order][FRACTIONS.length - 1]!)} |`),
    '',
    `<!-- bench:${SANITY_MARKERS}:start -->`,
    sanityBlock(sanity),
    `<!-- bench:${SANITY_MARKERS}:end -->`,
    '',
    `**Latency** over HTTP (functions/node/server.ts on port 0, billing, generation and fine-tuning off), one dev sentence per request: ${latency[0]?.requests ?? 0} rounds of plain`,
    `and explained on one server, then ${latency[0]?.trios.length ?? 0} times ${latency[0]?.plainOnlyRequests ?? 0} rounds of plain only on a trio of fresh servers side by side: this checkout, a second of it`,
    `("this again", the A/A control) and one of ${notes.beforeCommit} (the commit before explanations); in each round the first to go rotates, and each trio starts its servers in another order. Those p50s are above the`,
    "first series' plain p50: requests taking turns across three processes ran ~1.6x slower than on one alone (WASM, measured in development), alike for the three.",
    '',
    '| backend | plain p50 ms | plain p99 ms | explained p50 ms | explained p99 ms | explained / plain p50 | p99 | words per explained request | model ms p50 (Server-Timing), plain / explained |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...latency.map((l) => `| ${l.backend} | ${ms(l.plain.p50)} | ${ms(l.plain.p99)} | ${ms(l.explained.p50)} | ${ms(l.explained.p99)} | ${ratio(l.explained.p50, l.plain.p50)} | ${ratio(l.explained.p99, l.plain.p99)} | ${l.meanWords.toFixed(1)} | ${ms(l.modelP50.plain)} / ${ms(l.modelP50.explained)} = ${ratio(l.modelP50.explained, l.modelP50.plain)} |`),
    '',
    '| backend | trio | plain p50 ms, this | this again | before | this / before | A/A: this / this again |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...latency.flatMap((l) => l.trios.map((t, i) => `| ${l.backend} | ${i + 1} | ${ms(t.this.p50)} | ${ms(t.again.p50)} | ${ms(t.before.p50)} | ${ratio(t.this.p50, t.before.p50)} | ${ratio(t.this.p50, t.again.p50)} |`)),
    '',
    'Against the targets:',
    `- Deleting the top 20 % of words by attribution drops the predicted label's probability ${ratio(faith.deletion.attribution[top20]!, faith.deletion.random[top20]!)} as much as deleting as many random words (target ≥ 2x): ${met(top20Ratio >= 2)}.`,
    '  Occlusion scores each word by deleting it alone, so its top word is by construction the largest single-word drop; the top-2, top-20 % and insertion figures'
      + ' test whether those one-at-a-time scores still hold when words go (or come back) together.',
    `- Insertion AUC, attribution order / random order: ${ratio(faith.insertionAuc.attribution, faith.insertionAuc.random)} (higher: the probability comes back sooner).`,
    ...latency.map((l) => {
      const slower = median(l.trios.map((t) => t.this.p50 / t.before.p50)) - 1;
      const aa = l.trios.map((t) => t.this.p50 / t.again.p50);
      const noise = Math.max(NOISE_FLOOR, ...aa.map((r) => Math.abs(r - 1)));
      return `- ${l.backend}: explained / plain p50 ${ratio(l.explained.p50, l.plain.p50)} (target ≤ 4x): ${met(l.explained.p50 / l.plain.p50 <= 4)}. `
        + `An explained request here classifies 1 + ${l.meanWords.toFixed(1)} texts in one batch, and the model's own time (Server-Timing) grows ${ratio(l.modelP50.explained, l.modelP50.plain)} for them: `
        + `the ratio is the inference the variants need, not HTTP or JSON. Plain p50 with explain off, this checkout / before the feature: median ${(1 + slower).toFixed(2)}x over ${l.trios.length} trios, `
        + `against up to ${(1 + noise).toFixed(2)}x between two identical servers (target: no slowdown beyond that noise, at least ${(100 * NOISE_FLOOR).toFixed(0)} %): ${met(slower <= noise)}.`;
    }),
  ];
  return lines.join('\n');
}
