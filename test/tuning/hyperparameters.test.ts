import { describe, expect, it } from 'vitest';
import { ApiError } from '../../functions/http/errors.js';
import { autoBatchSize, autoEpochs, resolveHyperparameters } from '../../functions/tuning/hyperparameters.js';

function refusal(requested: unknown): ApiError {
  try {
    resolveHyperparameters(requested, 1_000);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('resolveHyperparameters', () => {
  it('keeps the numbers given', () => {
    expect(resolveHyperparameters({ n_epochs: 7, batch_size: 16, learning_rate_multiplier: 0.5 }, 1_000)).toEqual({ nEpochs: 7, batchSize: 16, learningRateMultiplier: 0.5 });
    expect(resolveHyperparameters({ n_epochs: 1, batch_size: 1, learning_rate_multiplier: 10 }, 10)).toEqual({ nEpochs: 1, batchSize: 1, learningRateMultiplier: 10 });
    expect(resolveHyperparameters({ n_epochs: 50, batch_size: 256, learning_rate_multiplier: 1e-6 }, 10).nEpochs).toBe(50);
  });

  it('resolves "auto" and absent values alike, from the number of rows', () => {
    const auto = resolveHyperparameters({ n_epochs: 'auto', batch_size: 'auto', learning_rate_multiplier: 'auto' }, 1_000);
    expect(resolveHyperparameters(undefined, 1_000)).toEqual(auto);
    expect(resolveHyperparameters({}, 1_000)).toEqual(auto);
    expect(resolveHyperparameters(null, 1_000)).toEqual(auto);
    expect(auto).toEqual({ nEpochs: autoEpochs(1_000, autoBatchSize(1_000)), batchSize: autoBatchSize(1_000), learningRateMultiplier: 1 });
  });

  it('auto epochs follow the batch size given', () => {
    expect(resolveHyperparameters({ batch_size: 1 }, 1_000).nEpochs).toBe(autoEpochs(1_000, 1));
  });

  it('auto values stay in range from 2 rows to 100,000', () => {
    for (const rows of [2, 10, 100, 300, 1_000, 5_000, 20_000, 100_000]) {
      const { nEpochs, batchSize } = resolveHyperparameters(undefined, rows);
      expect(Number.isInteger(nEpochs) && nEpochs >= 1 && nEpochs <= 50).toBe(true);
      expect(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 256).toBe(true);
    }
    expect(autoBatchSize(100_000)).toBeGreaterThanOrEqual(autoBatchSize(100));
    expect(autoEpochs(100_000, autoBatchSize(100_000))).toBeLessThanOrEqual(autoEpochs(100, autoBatchSize(100)));
  });

  it.each([
    [{ n_epochs: 0 }, 'hyperparameters.n_epochs'],
    [{ n_epochs: 51 }, 'hyperparameters.n_epochs'],
    [{ n_epochs: 2.5 }, 'hyperparameters.n_epochs'],
    [{ n_epochs: '3' }, 'hyperparameters.n_epochs'],
    [{ batch_size: 0 }, 'hyperparameters.batch_size'],
    [{ batch_size: 257 }, 'hyperparameters.batch_size'],
    [{ batch_size: null }, 'hyperparameters.batch_size'],
    [{ learning_rate_multiplier: 0 }, 'hyperparameters.learning_rate_multiplier'],
    [{ learning_rate_multiplier: -1 }, 'hyperparameters.learning_rate_multiplier'],
    [{ learning_rate_multiplier: 10.5 }, 'hyperparameters.learning_rate_multiplier'],
    [{ learning_rate_multiplier: 'fast' }, 'hyperparameters.learning_rate_multiplier'],
    ['auto', 'hyperparameters'],
    [[3], 'hyperparameters'],
  ])('refuses %j with a 400 naming %s', (requested, param) => {
    const error = refusal(requested);
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', param });
    expect(error.message).toContain(param);
  });
});
