/**
 * How large a fine-tuning job the Worker trains itself. A run's CPU is the encoder reading every training and
 * validation text once (n_epochs retrain only the head, on those features, which costs little), so the cap is on
 * those tokens: what a run reads in a third of wrangler.toml's limits.cpu_ms at the rate measured in workerd (a 3x
 * margin for slower machines at the edge and for the head's steps). Larger jobs go to the Node server, which trains
 * in a worker thread without a per-invocation CPU limit.
 *
 * Measured on the development machine, as CPU time of the workerd process (/proc) while vitest-pool-workers ran the
 * Worker: the bundled int8 electra-imdb-small read 512 SST-2 dev sentences (12,671 tokens) in 4.2 CPU s (3,000
 * tokens/s) and 64 texts of full 128-token windows (11,897 tokens) in 1.8 s (6,600/s); a whole job on the 872 dev
 * sentences (about 21,500 tokens read, 18 epochs, 1,782 head steps) took 5.7 CPU s, and 5.4 s with the encoder at
 * graph optimization 'basic' (as extractorFromFiles loads it now). The cap uses the slowest rate.
 */
import { ApiError } from '../http/errors.js';
import type { TextEmbedder } from '../engine/tasks/text-embedder.js';
import type { LabelledText } from '../tuning/trainer/trainer.js';

/** wrangler.toml's [limits] cpu_ms: the CPU one invocation (an alarm of the fine-tuning object) may use. */
export const INVOCATION_CPU_MS = 300_000;
export const MEASURED_TOKENS_PER_CPU_SECOND = 3_000;
const MARGIN = 3;
export const MAX_EDGE_FEATURE_TOKENS = Math.floor((INVOCATION_CPU_MS / 1000 / MARGIN) * MEASURED_TOKENS_PER_CPU_SECOND);

/** Tokens the encoder reads for a job: every training and validation text once. */
export function featureTokens(embedder: Pick<TextEmbedder, 'countTokens'>, training: LabelledText[], validation: LabelledText[] | null): number {
  const count = (rows: LabelledText[]) => embedder.countTokens(rows.map((row) => row.text)).reduce((sum, n) => sum + n, 0);
  return count(training) + (validation ? count(validation) : 0);
}

/** The 400 for a job the Worker cannot train within its CPU limit. */
export function checkEdgeJobSize(tokens: number, max = MAX_EDGE_FEATURE_TOKENS): void {
  if (tokens <= max) return;
  throw new ApiError(
    400,
    `this job's training and validation files hold ${tokens} tokens for the encoder to read; the edge trains at most ${max} `
      + `(a third of the ${INVOCATION_CPU_MS / 1000} s of CPU a Worker invocation may use, limits.cpu_ms). Use fewer rows, `
      + 'or train it on the Node server (npm start), which runs jobs in a worker thread without this limit',
    'invalid_request_error',
    'job_too_large_for_edge',
    'training_file',
  );
}
