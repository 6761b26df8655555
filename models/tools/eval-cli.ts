/** npm run models:eval -- <model folder> [--data dev.tsv] [--variants model,model_quantized] [--json out.json] */
import { stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { loadClassifier } from '../../functions/node/load-classifier.js';
import type { SequenceClassifier } from '../../functions/engine/classification/sequence-classifier.js';
import { runCli, UsageError } from '../../functions/node/cli.js';
import { agreement, evaluateVariants, type VariantResult } from './evaluate.js';
import { readLabelledTsv } from './labelled-tsv.js';
import { repoRoot, sst2Dir } from '../../functions/node/shared-paths.js';

const pct = (x: number) => (100 * x).toFixed(2);

function printTable(results: VariantResult[], sizes: Map<string, number>): void {
  const header = ['variant', 'accuracy %', ...results[0]!.perClass.flatMap((c) => [`${c.label} P %`, `${c.label} R %`]), 'ms/sentence', 'session.run ms', 'MB'];
  const rows = results.map((r) => [
    r.variant,
    pct(r.accuracy),
    ...r.perClass.flatMap((c) => [pct(c.precision), pct(c.recall)]),
    r.meanLatencyMs.toFixed(3),
    r.meanInferenceMs.toFixed(3),
    (sizes.get(r.variant)! / 1e6).toFixed(2),
  ]);
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

runCli(async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      data: { type: 'string', default: join(sst2Dir, 'dev.tsv') },
      variants: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const folder = positionals[0];
  if (!folder || positionals.length > 1) throw new UsageError('usage: npm run models:eval -- <model folder> [--data file.tsv] [--variants model,model_quantized] [--json out.json]');
  const data = await readLabelledTsv(values.data);
  const variants = new Map<string, SequenceClassifier>();
  const sizes = new Map<string, number>();
  // By default the variants the folder has: a folder may ship int8 only (sst2-glove-bilstm: its fp32 file is over 16 MB).
  const present = async (v: string) => stat(join(folder, 'onnx', `${v}.onnx`)).then(() => v, () => null);
  const found = (await Promise.all(['model', 'model_quantized'].map(present))).filter((v): v is string => v !== null);
  // With neither file, loading says what the folder lacks (its config.json first).
  const chosen = values.variants?.split(',') ?? (found.length ? found : ['model', 'model_quantized']);
  for (const variant of chosen) {
    variants.set(variant, await loadClassifier(folder, { variant, threads: 1 }));
    sizes.set(variant, (await stat(join(folder, 'onnx', `${variant}.onnx`))).size);
  }
  console.log(`evaluating ${folder} on ${data.length} rows of ${values.data} with onnxruntime-web (WASM, 1 thread), one sentence per run`);
  const results = await evaluateVariants(variants, data);
  printTable(results, sizes);
  if (results.length === 2) {
    const [a, b] = results as [VariantResult, VariantResult];
    console.log(
      `${b.variant} vs ${a.variant}: label agreement ${pct(agreement(a.predictions, b.predictions))} %, ` +
        `latency ratio ${(b.meanLatencyMs / a.meanLatencyMs).toFixed(3)}, session.run ratio ${(b.meanInferenceMs / a.meanInferenceMs).toFixed(3)}, ` +
        `size ratio ${(sizes.get(b.variant)! / sizes.get(a.variant)!).toFixed(3)}`,
    );
  }
  if (values.json) {
    const summary = results.map(({ predictions: _, ...rest }) => ({ ...rest, bytes: sizes.get(rest.variant) }));
    await writeFile(values.json, JSON.stringify({ data: relative(repoRoot, values.data), rows: data.length, results: summary }, null, 2) + '\n');
  }
});
