// The Node server's WASM sessions in a worker thread: the same logits as onnxruntime-web on the main thread, an
// event loop that keeps turning while a batch runs, and a failed run that rejects without stopping the thread.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifierFromFiles, type SessionFactory } from '../../functions/engine/loading/classifier-from-files.js';
import { folderReader, nodeSessionFactory } from '../../functions/node/load-classifier.js';
import { wasmThreadSessionFactory } from '../../functions/node/wasm-thread-session.js';
import { sst2BertDir } from '../paths.js';

const filler = ' the film goes on and on ,'.repeat(15);
const texts = Array.from({ length: 64 }, (_, i) => (i % 2 ? `a dull , lifeless mess${filler} take ${i} .` : `a wonderful , heartfelt film${filler} take ${i} .`));

const load = (createSession: SessionFactory) =>
  classifierFromFiles({ read: folderReader(sst2BertDir), onnxFile: 'onnx/model_quantized.onnx', where: 'sst2-bert', createSession });

/** Turns of the event loop (setImmediate) while `work` runs. */
async function turnsDuring<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let on = true;
  const tick = () => {
    if (!on) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const result = await work();
  on = false;
  return { result, turns };
}

describe('wasmThreadSessionFactory', () => {
  it('gives the logits of a main-thread onnxruntime-web session, while the event loop keeps turning', async () => {
    const inThread = await load(nodeSessionFactory('wasm'));
    const offThread = await load(wasmThreadSessionFactory());
    await inThread.classify(texts.slice(0, 2));
    await offThread.classify(texts.slice(0, 2));
    const blocked = await turnsDuring(() => inThread.classify(texts));
    const free = await turnsDuring(() => offThread.classify(texts));
    free.result.logits.forEach((row, i) => {
      expect(row).toBeInstanceOf(Float32Array);
      Array.from(row).forEach((x, j) => expect(x).toBeCloseTo(blocked.result.logits[i]![j]!, 4));
    });
    expect(free.result.tokenCounts).toEqual(blocked.result.tokenCounts);
    // On the main thread the batch's session.runs hold the loop; in the thread it turns about once per ms of them.
    expect(free.turns).toBeGreaterThan(blocked.turns + 10);
  }, 60_000);

  it('rejects a run that onnxruntime refuses with its message, and runs the next one', async () => {
    const { session, createTensor } = await wasmThreadSessionFactory()(await readFile(join(sst2BertDir, 'onnx', 'model_quantized.onnx')));
    const ids = createTensor('int64', new BigInt64Array([101n, 2307n, 102n]), [1, 3]);
    await expect(session.run({ input_ids: ids })).rejects.toThrow(/attention_mask|input/i);
    const mask = createTensor('int64', new BigInt64Array([1n, 1n, 1n]), [1, 3]);
    const feeds = { input_ids: ids, attention_mask: mask, ...(session.inputNames.includes('token_type_ids') ? { token_type_ids: createTensor('int64', new BigInt64Array(3), [1, 3]) } : {}) };
    const outputs = await session.run(feeds);
    expect(outputs.logits!.dims).toEqual([1, 2]);
  }, 60_000);
});
