/**
 * export_encoder.py's check, in what serves the folder: the project's WordPiece tokenizer on the folder's
 * tokenizer.json (does it give the recipe's ids?) and the ONNX files run in onnxruntime-node on the recipe's padded
 * batch; each variant's last_hidden_state is written as raw float32 for Python to compare with torch.
 * Usage: tsx check-encoder.ts --folder DIR --input input.json --out DIR model [model_quantized]
 * input.json: {"texts": [...], "ids": [[...]], "attention_mask": [[...]]} (padded rows of equal length).
 * Prints one JSON line: {"ids_equal": boolean, "version": string}.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { autoTokenizer } from '../../../functions/engine/tokenizer/auto-tokenizer.js';
import { runCli, UsageError } from '../../../functions/node/cli.js';

interface CheckInput {
  texts: string[];
  ids: number[][];
  attention_mask: number[][];
}

const int64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), (v) => BigInt(v)), [rows.length, rows[0]!.length]);

runCli(async () => {
  const { positionals: variants, values } = parseArgs({
    allowPositionals: true,
    options: { folder: { type: 'string' }, input: { type: 'string' }, out: { type: 'string' } },
  });
  if (!values.folder || !values.input || !values.out || variants.length === 0) {
    throw new UsageError('usage: tsx check-encoder.ts --folder DIR --input input.json --out DIR model [model_quantized]');
  }
  const input = JSON.parse(await readFile(values.input, 'utf8')) as CheckInput;
  const config = JSON.parse(await readFile(join(values.folder, 'config.json'), 'utf8')) as { max_position_embeddings: number };
  const tokenizer = autoTokenizer(JSON.parse(await readFile(join(values.folder, 'tokenizer.json'), 'utf8')), {
    accept: ['WordPiece'],
    maxLength: config.max_position_embeddings,
  });
  const idsEqual = input.texts.every((text, row) => {
    const expected = input.ids[row]!.filter((_, j) => input.attention_mask[row]![j] === 1);
    return JSON.stringify(tokenizer.tokenize(text).ids) === JSON.stringify(expected);
  });
  const feeds = {
    input_ids: int64(input.ids),
    attention_mask: int64(input.attention_mask),
    token_type_ids: int64(input.ids.map((row) => row.map(() => 0))),
  };
  for (const variant of variants) {
    const session = await ort.InferenceSession.create(join(values.folder, 'onnx', `${variant}.onnx`), { intraOpNumThreads: 1 });
    const output = (await session.run(feeds)).last_hidden_state;
    if (!output || !(output.data instanceof Float32Array)) throw new Error(`${variant}.onnx gave no float32 last_hidden_state`);
    await writeFile(join(values.out, `${variant}.f32`), new Uint8Array(output.data.buffer, output.data.byteOffset, output.data.byteLength));
    await session.release();
  }
  console.log(JSON.stringify({ ids_equal: idsEqual, version: ort.env.versions.node ?? 'unknown' }));
});
