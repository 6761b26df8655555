/** Where the read-only shared assets live: ../shared beside the checkout unless the environment says otherwise. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedDir = process.env.SHARED_DIR ?? resolve(repoRoot, '..', 'shared');
export const sst2Dir = process.env.DATA_DIR ?? resolve(sharedDir, 'data', 'sst2');
