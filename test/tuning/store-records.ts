/** Records for the tuning store tests, with ids of the real shapes. No vitest here: the racer processes import it. */
import type { JobRecord, StoredFile } from '../../functions/tuning/tuning-types.js';

const BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz';

export function randomId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return prefix + Array.from(bytes, (b) => BASE36[b % 36]).join('');
}

export function storedFile(tenantId: string, bytes: number, over: Partial<StoredFile> = {}): StoredFile {
  return { id: randomId('file-'), tenantId, filename: 'train.jsonl', purpose: 'fine-tune', bytes, createdAt: 1_800_000_000, rows: 3, labels: ['pos', 'neg'], ...over };
}

export function jobRecord(tenantId: string, over: Partial<JobRecord> = {}): JobRecord {
  return {
    id: randomId('ftjob-'), tenantId, keyId: 'key_1', model: 'electra-imdb-small@1', trainingFile: randomId('file-'), validationFile: null,
    hyperparameters: { nEpochs: 3, batchSize: 16, learningRateMultiplier: 1 }, suffix: 'reviews', seed: 42, status: 'queued',
    createdAt: 1_800_000_000, startedAt: null, finishedAt: null, estimatedFinish: null, error: null, fineTunedModel: null, trainedTokens: 1200,
    result: null, resultFiles: [], attempts: 0, usageId: randomId('u-'), ...over,
  };
}
