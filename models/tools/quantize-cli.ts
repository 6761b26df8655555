/** npm run models:quantize -- <in.onnx> <out.onnx> [--weights uint8|int8-reduce-range|int8] [--min-embedding-rows N] [--exclude node,node] */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readFileOrFail, runCli, UsageError } from '../../functions/node/cli.js';
import { defaultQuantizeOptions, quantizeDynamic } from './quantize/quantize-dynamic.js';
import { isWeightFormat, weightFormats } from './quantize/weight-format.js';

const usage = `usage: npm run models:quantize -- <in.onnx> <out.onnx> [--weights ${weightFormats.join('|')}] [--min-embedding-rows N] [--exclude node,node]`;

runCli(async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { 'min-embedding-rows': { type: 'string' }, exclude: { type: 'string' }, weights: { type: 'string', default: defaultQuantizeOptions.weights } },
  });
  const [input, output] = positionals;
  if (!input || !output || positionals.length > 2) throw new UsageError(usage);
  const minRows = Number(values['min-embedding-rows'] ?? defaultQuantizeOptions.minEmbeddingRows);
  if (!Number.isInteger(minRows) || minRows < 1) throw new UsageError('--min-embedding-rows must be a positive integer');
  const exclude = values.exclude ? values.exclude.split(',') : [];
  const weights = values.weights;
  if (!isWeightFormat(weights)) throw new UsageError(`--weights must be one of ${weightFormats.join(', ')}`);
  const started = performance.now();
  const { bytes, report } = quantizeDynamic(await readFileOrFail(input, 'ONNX model'), { minEmbeddingRows: minRows, exclude, weights });
  await writeFile(output, bytes);
  const mb = (n: number) => (n / 1e6).toFixed(2);
  console.log(
    `quantized ${report.matmuls} MatMul, ${report.gemms} Gemm (${weights} weights) and ${report.embeddings} embedding tables to int8: ` +
      `${mb(report.bytesBefore)} MB -> ${mb(report.bytesAfter)} MB (${(report.bytesAfter / report.bytesBefore).toFixed(3)}x) ` +
      `in ${((performance.now() - started) / 1000).toFixed(1)} s, written to ${output}`,
  );
});
