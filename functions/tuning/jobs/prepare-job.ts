/**
 * A job request checked against everything it names before anything is stored or reserved: the base model, the
 * caller's files (parsed again, as training will read them; without a validation file, one that leaves no hold-out to
 * measure on is refused here rather than failing its run), the suffix, seed and hyperparameters, and what the
 * training will cost (trained tokens = the training file's tokens x epochs, at the base model's input-token price).
 */
import { ApiError, invalidRequest, modelNotFound } from '../../http/errors.js';
import { roundMicroUsd } from '../../registry/pricing.js';
import { modelRef, type ModelEntry, type Price, type Registry } from '../../registry/registry.js';
import type { TextEmbedder } from '../../engine/tasks/text-embedder.js';
import { canHoldOut } from '../trainer/holdout-split.js';
import { resolveHyperparameters, type RequestedHyperparameters } from '../hyperparameters.js';
import { parseTrainingFileInSlices, TrainingFileError, trainingFileErrorToApi, type TrainingFile } from '../training-file.js';
import type { TuningStore } from '../tuning-store.js';
import type { Hyperparameters } from '../tuning-types.js';

/** What POST /v1/fine_tuning/jobs takes, in OpenAI's field names (the route has checked the JSON types). */
export interface CreateJobRequest {
  model: string;
  training_file: string;
  validation_file?: string | null;
  hyperparameters?: RequestedHyperparameters | null;
  suffix?: string | null;
  seed?: number | null;
}

export interface Caller {
  tenantId: string;
  /** Billing's key id; null in open mode. */
  keyId: string | null;
}

export interface PreparedJob {
  base: ModelEntry;
  training: TrainingFile;
  validation: TrainingFile | null;
  hyperparameters: Hyperparameters;
  suffix: string | null;
  seed: number;
  /** The training file's tokens x epochs: what the job is billed for if it runs to the end. */
  trainedTokens: number;
  costMicroUsd: number;
}

const SUFFIX = /^[a-z0-9_-]{1,40}$/;
const MAX_SEED = 2 ** 31 - 1;

/** A training charge in micro-dollars: trained tokens at the base's input-token price, rounded up to a micro-dollar. */
export const trainingCostMicroUsd = (price: Price, trainedTokens: number): number => Math.ceil(roundMicroUsd(price.inputTokenMicroUsd * trainedTokens));

export const isFineTunable = (model: ModelEntry): boolean => model.task === 'feature-extraction' && model.runtime === 'edge-wasm';

export function resolveBase(registry: Registry, name: string): ModelEntry {
  const fineTunable = registry.models.filter(isFineTunable);
  const model = registry.resolve(name);
  if (!model) throw modelNotFound(name, fineTunable.map(modelRef));
  if (!isFineTunable(model)) {
    const choices = fineTunable.length > 0 ? `; fine-tune one of: ${fineTunable.map(modelRef).join(', ')}` : '';
    throw new ApiError(400, `model ${modelRef(model)} cannot be fine-tuned (only feature-extraction encoders can)${choices}`, 'invalid_request_error', 'model_not_fine_tunable', 'model');
  }
  return model;
}

function checkSuffix(suffix: string | null | undefined): string | null {
  if (suffix === undefined || suffix === null || suffix === '') return null;
  if (!SUFFIX.test(suffix)) throw invalidRequest('suffix must be 1 to 40 characters of a-z, 0-9, "-" and "_"', 'suffix', 'invalid_suffix');
  return suffix;
}

function checkSeed(seed: number | null | undefined): number {
  if (seed === undefined || seed === null) return crypto.getRandomValues(new Uint32Array(1))[0]! & MAX_SEED;
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) throw invalidRequest(`seed must be an integer from 0 to ${MAX_SEED}`, 'seed', 'invalid_seed');
  return seed;
}

/** The caller's fine-tune file, parsed; a file of another tenant reads as absent, exactly like an unknown id. */
async function readTrainingFile(store: TuningStore, tenantId: string, id: string, param: 'training_file' | 'validation_file'): Promise<TrainingFile> {
  const file = await store.getFile(tenantId, id);
  const bytes = file ? await store.fileBytes(tenantId, id) : null;
  if (!file || !bytes) throw new ApiError(404, `file "${id.slice(0, 100)}" does not exist`, 'invalid_request_error', 'file_not_found', param);
  if (file.purpose !== 'fine-tune') throw invalidRequest(`file ${id} has purpose "${file.purpose}"; ${param} takes a file uploaded with purpose "fine-tune"`, param, 'invalid_file_purpose');
  try {
    // A validation file may hold only some of the labels, even one.
    return await parseTrainingFileInSlices(bytes, param === 'validation_file' ? { minLabels: 1, minRows: 1 } : {});
  } catch (error) {
    if (error instanceof TrainingFileError) throw trainingFileErrorToApi(error, param);
    throw error;
  }
}

export async function prepareJob(
  deps: { store: TuningStore; registry: Registry; embedderFor: (base: string) => Promise<TextEmbedder> },
  caller: Caller,
  request: CreateJobRequest,
): Promise<PreparedJob> {
  const base = resolveBase(deps.registry, request.model);
  const suffix = checkSuffix(request.suffix);
  const seed = checkSeed(request.seed);
  const training = await readTrainingFile(deps.store, caller.tenantId, request.training_file, 'training_file');
  const validation = request.validation_file ? await readTrainingFile(deps.store, caller.tenantId, request.validation_file, 'validation_file') : null;
  if (validation) {
    const known = new Set(training.labels);
    const unknown = validation.labels.filter((label) => !known.has(label));
    if (unknown.length > 0) {
      const shown = unknown.slice(0, 5).map((l) => JSON.stringify(l)).join(', ');
      throw invalidRequest(`the validation file has labels the training file does not: ${shown}${unknown.length > 5 ? ', …' : ''}`, 'validation_file', 'invalid_validation_file');
    }
  }
  if (!validation && !canHoldOut(training.rows)) {
    throw invalidRequest(
      `no label of the training file has 2 rows: measuring the model needs a hold-out, which takes a label with at least 2 rows (one to train on, one to measure); add rows, or give a validation_file`,
      'training_file', 'invalid_training_file',
    );
  }
  const hyperparameters = resolveHyperparameters(request.hyperparameters ?? {}, training.rows.length);
  const embedder = await deps.embedderFor(modelRef(base));
  const tokens = embedder.countTokens(training.rows.map((row) => row.text)).reduce((sum, n) => sum + n, 0);
  const trainedTokens = tokens * hyperparameters.nEpochs;
  return { base, training, validation, hyperparameters, suffix, seed, trainedTokens, costMicroUsd: trainingCostMicroUsd(base.price, trainedTokens) };
}
