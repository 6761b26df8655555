/**
 * Run under `node --import tsx` (as `npm start` runs the server): trains with ThreadTrainer and prints the head's
 * sha256, so the test can check that the thread starts outside vitest too and gives the inline trainer's head.
 * Arguments: rows skip epochs seed.
 */
import { createHash } from 'node:crypto';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import { ThreadTrainer } from '../../functions/node/thread-trainer.js';
import { encodeHead } from '../../functions/tuning/trainer/classifier-head.js';
import { sst2Rows } from './job-helpers.js';

const [count, skip, epochs, seed] = process.argv.slice(2).map(Number) as [number, number, number, number];
const rows = await sst2Rows(count, skip);
const trainer = new ThreadTrainer({ registry: await readLocalRegistry() });
const { head } = await trainer.train({
  base: 'electra-imdb-small@1', rows, validation: null, labels: [...new Set(rows.map((r) => r.label))],
  hyperparameters: { nEpochs: epochs, batchSize: 16, learningRateMultiplier: 1 }, seed,
});
await trainer.close();
process.stdout.write(`${createHash('sha256').update(encodeHead(head)).digest('hex')}\n`);
