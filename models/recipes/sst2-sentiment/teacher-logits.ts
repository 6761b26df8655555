/**
 * Scores the training split with teacher models (their fp32 ONNX, in onnxruntime-web) and writes the mean of their
 * logits as float32 rows, in the split's order, for the student's distillation.
 * Usage: tsx teacher-logits.ts --rows train_rows.tsv --out teacher_logits.f32 [--backend node --threads 2] <model folder>...
 * (onnxruntime-node gives the same logits within 1e-4, several times faster, for large unlabelled sets).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadClassifier } from '../../../functions/node/load-classifier.js';
import { runCli, UsageError } from '../../../functions/node/cli.js';
import { readLabelledTsv } from '../../tools/labelled-tsv.js';

const BATCH = 64;

runCli(async () => {
  const { positionals: folders, values } = parseArgs({
    allowPositionals: true,
    options: { rows: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string', default: 'wasm' }, threads: { type: 'string', default: '1' } },
  });
  if (!values.rows || !values.out || folders.length === 0) {
    throw new UsageError('usage: tsx teacher-logits.ts --rows train_rows.tsv --out teacher_logits.f32 <model folder>...');
  }
  if (values.backend !== 'wasm' && values.backend !== 'node') throw new UsageError('--backend must be wasm or node');
  const threads = Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1) throw new UsageError('--threads must be a positive integer');
  const texts = (await readLabelledTsv(values.rows)).map((r) => r.text);
  // Batches of similar length waste little on padding; results go back to each row's own place.
  const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
  let sum: Float32Array | null = null;
  for (const folder of folders) {
    const teacher = await loadClassifier(folder, { variant: 'model', backend: values.backend, threads });
    const classes = teacher.labels.length;
    sum ??= new Float32Array(texts.length * classes);
    const started = performance.now();
    for (let start = 0; start < order.length; start += BATCH) {
      const rows = order.slice(start, start + BATCH);
      const { logits } = await teacher.classify(rows.map((i) => texts[i]!));
      logits.forEach((row, j) => row.forEach((x, k) => (sum![rows[j]! * classes + k] += x / folders.length)));
    }
    console.log(`scored ${texts.length} rows with ${folder} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  await writeFile(values.out, new Uint8Array(sum!.buffer));
  console.log(`wrote the mean logits of ${folders.length} teachers to ${values.out}`);
});
