import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rankLabels } from '../../functions/engine/classification/scores.js';
import { loadClassifier } from '../../functions/node/load-classifier.js';
import { startServer, type RunningServer } from '../../functions/node/start-server.js';
import { readLabelledTsv } from '../../models/tools/labelled-tsv.js';
import { sst2BertDir, devTsv } from '../paths.js';

type Scored = { label: string; score: number };

/** The same label on top (unless b's top is within tolerance of a tie), and every label's score within tolerance. */
function expectAgree(a: Scored[], b: Scored[], tolerance: number) {
  if (a[0]!.score > 0.5 + tolerance) expect(b[0]!.label).toBe(a[0]!.label);
  const byLabel = new Map(b.map((s) => [s.label, s.score]));
  expect(byLabel.size).toBe(a.length);
  a.forEach((s) => expect(Math.abs(s.score - byLabel.get(s.label)!)).toBeLessThan(tolerance));
}

// fp32 agrees across runtimes to 1e-4 (measured 9e-7 on all of SST-2 dev). int8 runs exact integer products in both
// (the weights are uint8, so native x86 kernels never saturate, see models/tools/quantize/weight-format.ts); what
// differs is fp32 arithmetic around them, which can move an activation across a uint8 rounding step: measured at
// most 0.008 on SST-2 dev (model card; 0.0082 here, no label differing), tested at 2e-2, labels equal away from a
// tie. The old int8-weight file failed this by 0.131 on AVX2 without VNNI. int8 is what the server serves, so it
// runs on every dev sentence.
describe.each([
  ['model', 1e-4, 200],
  ['model_quantized', 2e-2, Infinity],
] as const)('onnxruntime-web and onnxruntime-node on %s', (variant, tolerance, count) => {
  it(`give the same labels and scores within ${tolerance} on SST-2 dev sentences`, async () => {
    const web = await loadClassifier(sst2BertDir, { variant, backend: 'wasm' });
    const native = await loadClassifier(sst2BertDir, { variant, backend: 'node' });
    const texts = (await readLabelledTsv(devTsv)).slice(0, count).map((r) => r.text);
    expect(texts.length).toBeGreaterThanOrEqual(200);
    for (let i = 0; i < texts.length; i += 50) {
      const batch = texts.slice(i, i + 50);
      const [a, b] = [await web.classify(batch), await native.classify(batch)];
      a.logits.forEach((logits, j) => expectAgree(rankLabels(logits, web.labels), rankLabels(b.logits[j]!, native.labels), tolerance));
    }
  }, 60_000);
});

// What users get: the Node server on its default (onnxruntime-node) and on ORT_BACKEND=wasm, over HTTP on 127.0.0.1.
// Each side gets the same requests one after another, so each sentence runs in the same batch on both: an int8
// score also depends on its batch mates (measured up to 0.037 between a sentence alone and inside a batch of 50,
// the same on both runtimes), which is not what this compares.
describe("the Node server's default engine and ORT_BACKEND=wasm", () => {
  const servers: { native?: RunningServer; wasm?: RunningServer } = {};
  beforeAll(async () => {
    [servers.native, servers.wasm] = await Promise.all([undefined, 'wasm' as const].map((backend) => startServer({ port: 0, backend, generation: false, billing: false, fineTuning: false })));
  }, 60_000);
  afterAll(() => Promise.all(Object.values(servers).map((s) => s?.close())));

  async function classifyEach(server: RunningServer, inputs: (string | string[])[]): Promise<Scored[][]> {
    const results: Scored[][] = [];
    for (const input of inputs) {
      const res = await fetch(`${server.url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input }) });
      expect(res.status).toBe(200);
      results.push(...((await res.json()) as { results: Scored[][] }).results);
    }
    return results;
  }

  it('serve the same labels and scores (within int8\'s 2e-2) for the same requests, each naming its engine', async () => {
    expect([servers.native!.backend, servers.wasm!.backend]).toEqual(['node', 'wasm']);
    const engines = await Promise.all([servers.native!, servers.wasm!].map(async (s) => ((await (await fetch(`${s.url}/v1/models/sentiment`)).json()) as { engine: string }).engine));
    expect(engines).toEqual(['onnxruntime-node', 'onnxruntime-web']);
    const texts = (await readLabelledTsv(devTsv)).slice(0, 164).map((r) => r.text);
    // 100 requests of one sentence (as the benchmark sends them), then one of 64.
    const requests = [...texts.slice(0, 100), texts.slice(100)];
    const [native, wasm] = [await classifyEach(servers.native!, requests), await classifyEach(servers.wasm!, requests)];
    expect(native).toHaveLength(164);
    wasm.forEach((scores, i) => expectAgree(scores, native[i]!, 2e-2));
  }, 60_000);
});
