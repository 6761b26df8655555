/**
 * The sanity check's block of bench/explain's section in bench/RESULTS.md (between its own markers inside the
 * section, so `--only sanity` can rewrite it alone): how the models were randomised, the correlations, the reading.
 */
import { UNIFORM_RMS, type Role } from './randomise-layers.js';
import { MIN_WORDS, type CascadeStep, type RandomisedRow, type Sanity } from './sanity-check.js';

/** Its markers: <!-- bench:explain:sanity:start --> and <!-- bench:explain:sanity:end -->. */
export const SANITY_MARKERS = 'explain:sanity';

/** Where the block comes from a run of the sanity check alone, not the run the rest of the section reports. */
export interface SanityRerun {
  date: string;
  commit: string;
  /** Uncommitted changes under functions/, models/ and bench/explain/ it ran with. */
  dirty: string[];
  command: string;
  load: { before: number; after: number };
}

/** Mean abs ρ below which a randomised model's attributions are taken to differ from the trained one's. */
const DIFFERENT = 0.5;
/** Accuracy this far from 50 % for every seed: the randomised model still classifies sentiment (or its opposite). */
const STILL_SENTIMENT = 0.15;
/** Mean ρ this close to 0, and mean abs ρ this close to the shuffled one's: as unrelated as shuffled attributions. */
const NEAR_CHANCE = 0.05;
const f3 = (x: number) => x.toFixed(3);
const pct = (share: number) => `${(100 * share).toFixed(1)} %`;
const met = (ok: boolean) => (ok ? 'met' : 'missed');

const ROLE_NAMES: Record<Role, [one: string, many: string]> = {
  weights: ['8-bit matrix', '8-bit matrices'],
  'zero point': ['zero point', 'zero points'],
  scale: ['quantization scale', 'quantization scales'],
  bias: ['fp32 bias', 'fp32 biases'],
  'embedding table': ['fp32 embedding table', 'fp32 embedding tables'],
  'layer norm': ['LayerNorm γ or β', 'LayerNorm γs and βs'],
};

function roles(step: CascadeStep, randomised: boolean): string {
  const named = step.roles.filter((r) => r.randomised === randomised).map((r) => `${r.count} ${ROLE_NAMES[r.role][r.count === 1 ? 0 : 1]}`);
  return named.length === 0 ? 'none' : named.join(', ');
}

const worst = (rows: RandomisedRow[]) => Math.max(...rows.map((r) => r.correlation.meanAbsolute));
/** Whether ρ's sign follows the model's agreement with the trained labels: positive when it mostly agrees. */
const followsAgreement = (rows: RandomisedRow[]) => rows.every((r) => Math.sign(r.correlation.mean) === Math.sign(r.agreement - 0.5));
const stillSentiment = (rows: RandomisedRow[]) => rows.every((r) => Math.abs(r.accuracy - 0.5) >= STILL_SENTIMENT);
const list = (rows: RandomisedRow[], value: (r: RandomisedRow) => string) => rows.map(value).join(', ');

export function sanityBlock(sanity: Sanity, rerun?: SanityRerun): string {
  const byStep = sanity.steps.map((step) => ({ step, rows: sanity.randomised.filter((r) => r.step === step.name) }));
  const chance = Math.max(...sanity.shuffled.map((s) => s.correlation.meanAbsolute));
  const rerunOk = sanity.rerun.mean > 0.999;
  const passes = ({ rows }: { rows: RandomisedRow[] }) => rerunOk && worst(rows) < DIFFERENT;
  const first = byStep.find(passes);
  const last = byStep.at(-1)!;
  const rms = { min: Math.min(...sanity.steps.map((s) => s.trainedRms.min)), max: Math.max(...sanity.steps.map((s) => s.trainedRms.max)) };
  const dirty = rerun && (rerun.dirty.length === 0 ? 'no uncommitted changes under functions/, models/ or bench/explain/' : `uncommitted changes in ${rerun.dirty.join(', ')}`);
  const lines = [
    `**Sanity check** (model randomisation, cascading, as Adebayo et al. 2018 do it).${rerun ? ` Rerun alone ${rerun.date} at commit ${rerun.commit} (${dirty}); \`${rerun.command}\`; load average (1 min) ${rerun.load.before.toFixed(2)} → ${rerun.load.after.toFixed(2)}. The figures above and below this block are from the full run.` : ''}`,
    'Randomised top down, each step the one before plus one block, with one random stream per seed (so a step keeps the random values of the one before): every 8-bit weight',
    `matrix of its scopes (MatMulInteger's weights, the int8 word-embedding table) gets uniform 8-bit values, its zero point moved to the middle of the range and its quantization scale kept`,
    `(root mean square ${UNIFORM_RMS.toFixed(1)} around the zero point, against ${rms.min.toFixed(1)}-${rms.max.toFixed(1)} for the trained matrices); fp32 biases and the position and token-type embedding`,
    'tables get N(0, σ²) with the trained tensor\'s σ; LayerNorm γ and β (and the quantization scales) are left as trained.',
    '',
    '| step: randomised | adds scope | 8-bit matrices randomised | tensors randomised | left as trained |',
    '|---|---|---:|---|---|',
    ...sanity.steps.map((s) => `| ${s.name} | ${s.scopes.at(-1)} | ${s.matrices.randomised} of ${s.matrices.total} | ${roles(s, true)} | ${roles(s, false)} |`),
    '',
    `Spearman correlation of each sentence's attributions (${MIN_WORDS}+ words) toward the trained model's predicted label, for both models; accuracy on these sentences. "Shuffled": the trained`,
    'attributions against themselves in a random order per sentence, what unrelated rankings of these words correlate (short sentences make it well above 0).',
    '',
    '| trained against | seed | mean ρ | mean abs ρ | sentences | left out (constant) | its accuracy | agrees with trained |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    `| trained, rerun | | ${f3(sanity.rerun.mean)} | ${f3(sanity.rerun.meanAbsolute)} | ${sanity.rerun.texts} | ${sanity.rerun.constant} | ${pct(sanity.trainedAccuracy)} | 100 % |`,
    ...sanity.shuffled.map((s) => `| trained, shuffled | ${s.seed} | ${f3(s.correlation.mean)} | ${f3(s.correlation.meanAbsolute)} | ${s.correlation.texts} | ${s.correlation.constant} | | |`),
    ...sanity.randomised.map((r) => `| ${r.step} randomised | ${r.seed} | ${f3(r.correlation.mean)} | ${f3(r.correlation.meanAbsolute)} | ${r.correlation.texts} | ${r.correlation.constant} | ${pct(r.accuracy)} | ${pct(r.agreement)} |`),
    '',
    `Against the target (a model with randomised classifier weights must explain differently; taken here as mean abs ρ < ${DIFFERENT} for every seed, with the rerun at 1; chance, shuffled, is ${f3(chance)}):`,
    ...byStep.map(({ step, rows }) => `- ${step.name} randomised: mean ρ ${list(rows, (r) => f3(r.correlation.mean))} over the seeds (mean abs ρ up to ${f3(worst(rows))}); accuracy `
      + `${list(rows, (r) => pct(r.accuracy))}, agreeing with the trained model on ${list(rows, (r) => pct(r.agreement))}: ${met(passes({ rows }))}.`
      + (followsAgreement(rows) && stillSentiment(rows) ? ' The sign of ρ follows whether that model agrees with the trained labels: it is still a sentiment classifier (or an anti-sentiment one), and occlusion explains it as such.' : '')),
    `- The issue's own case, the classifier layer randomised: ${met(passes(byStep[0]!))}.`
      + (!passes(byStep[0]!) && followsAgreement(byStep[0]!.rows) && stillSentiment(byStep[0]!.rows)
        ? ' A random read-out of this trained encoder is still a sentiment classifier, or an anti-sentiment one, and occlusion explains the model it is given, so this step alone'
          + ' cannot tell an explanation of the input from one of the model.'
        : '')
      + (first
        ? ` Down the cascade the attributions first differ for every seed at "${first.step.name}"${first === last ? ' (the whole model)' : ''}`
          + (first === last ? '' : `; from there mean ρ is at most ${f3(Math.max(...byStep.slice(byStep.indexOf(first), -1).flatMap((s) => s.rows.map((r) => r.correlation.mean))))} while trained layers (or embeddings) remain below the random ones`)
          + '.'
        : ` No step of the cascade, not even the whole model, gets every seed below ${DIFFERENT}.`)
      + ` With every weight random (LayerNorms aside), mean ρ is ${list(last.rows, (r) => f3(r.correlation.mean))} and mean abs ρ ${list(last.rows, (r) => f3(r.correlation.meanAbsolute))},`
      + ` against ${f3(chance)} for shuffled attributions`
      + (last.rows.every((r) => Math.abs(r.correlation.mean) < NEAR_CHANCE && r.correlation.meanAbsolute - chance < NEAR_CHANCE)
        ? ': about as unrelated to the trained attributions as shuffled ones. The attributions follow the model\'s weights, which is what the check tests;'
          + ' occlusion passes it down the cascade, not at the classifier layer alone.'
        : '.'),
  ];
  return lines.join('\n');
}
