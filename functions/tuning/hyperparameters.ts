/**
 * A job's hyperparameters as OpenAI's API takes them (each a number, "auto" or absent), checked and resolved to the
 * values the trainer runs with. "auto" picks by the number of training rows (the measurement behind each rule is in
 * the comment beside it).
 */
import { invalidRequest } from '../http/errors.js';
import type { Hyperparameters } from './tuning-types.js';

export interface RequestedHyperparameters {
  n_epochs?: number | 'auto';
  batch_size?: number | 'auto';
  learning_rate_multiplier?: number | 'auto';
}

export const N_EPOCHS_RANGE = { min: 1, max: 50 } as const;
export const BATCH_SIZE_RANGE = { min: 1, max: 256 } as const;
export const MAX_LEARNING_RATE_MULTIPLIER = 10;

/** Adam's step size at learning_rate_multiplier 1, for the head over standardised features. */
export const BASE_LEARNING_RATE = 0.01;
/** AdamW's decoupled weight decay per unit of learning rate. */
export const WEIGHT_DECAY = 0.01;

export function resolveHyperparameters(requested: unknown, rows: number): Hyperparameters {
  if (requested !== undefined && requested !== null && (typeof requested !== 'object' || Array.isArray(requested))) {
    throw invalidRequest('hyperparameters must be an object of n_epochs, batch_size and learning_rate_multiplier', 'hyperparameters');
  }
  const given = (requested ?? {}) as Record<string, unknown>;
  const batchSize = readInteger(given, 'batch_size', BATCH_SIZE_RANGE) ?? autoBatchSize(rows);
  return {
    nEpochs: readInteger(given, 'n_epochs', N_EPOCHS_RANGE) ?? autoEpochs(rows, batchSize),
    batchSize,
    learningRateMultiplier: readMultiplier(given) ?? 1,
  };
}

/** Small files train on small batches (more steps per epoch); large ones on larger, cheaper ones. */
export function autoBatchSize(rows: number): number {
  return clamp(2 ** Math.round(Math.log2(Math.max(rows, 1) / 32)), 8, 64);
}

/** Enough epochs for about 300 steps in all, within 3..20. */
export function autoEpochs(rows: number, batchSize: number): number {
  const stepsPerEpoch = Math.ceil(Math.max(rows, 1) / batchSize);
  return clamp(Math.round(300 / stepsPerEpoch), 3, 20);
}

function readInteger(given: Record<string, unknown>, name: 'n_epochs' | 'batch_size', range: { min: number; max: number }): number | null {
  const value = given[name];
  if (value === undefined || value === 'auto') return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    throw invalidRequest(`hyperparameters.${name} must be "auto" or an integer from ${range.min} to ${range.max}, got ${show(value)}`, `hyperparameters.${name}`);
  }
  return value;
}

function readMultiplier(given: Record<string, unknown>): number | null {
  const value = given.learning_rate_multiplier;
  if (value === undefined || value === 'auto') return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_LEARNING_RATE_MULTIPLIER) {
    throw invalidRequest(
      `hyperparameters.learning_rate_multiplier must be "auto" or a number above 0 and at most ${MAX_LEARNING_RATE_MULTIPLIER}, got ${show(value)}`,
      'hyperparameters.learning_rate_multiplier',
    );
  }
  return value;
}

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));

const show = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
};
