// The Worker's memory inside workerd (issue 21, item 8). A Workers isolate is stopped past 128 MB of JS heap and
// WebAssembly memory together, and neither `wrangler dev` nor this pool enforces it: these tests hold the Worker to
// 96 MB after its models load, after bursts of 64-text batches, and with tenant models; with a larger default model
// beside it, to 128 MB; and the largest request (64 texts of 128 tokens), which passed the bound as one session.run.
//
// What is measured here, in the isolate that serves the Worker's requests (the pool runs the tests in it):
// onnxruntime-web's WebAssembly memory, exactly (ort-workerd.ts's ortWasmMemoryBytes(); it grows and never shrinks),
// and the bundle's model files, exactly (ArrayBuffers the isolate holds for good). The rest of the JS heap has no API
// inside workerd: `performance.memory` is absent, and with nodejs_compat `process.memoryUsage()` and
// `v8.getHeapStatistics()` answer zeros (the last test checks that this is still so). `npm run bench:worker` reads it
// through the V8 inspector of a fresh `wrangler dev` (heap snapshot, then Runtime.getHeapUsage): about 10 MB after a
// burst, 3.4 MB of it the bundle's source text. JS_HEAP_ALLOWANCE reserves twice that.
import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifierFromFiles } from '../../functions/engine/loading/classifier-from-files.js';
import { encodeHead } from '../../functions/tuning/trainer/classifier-head.js';
import { newJobId } from '../../functions/tuning/ids.js';
import { modelFolders, registryBytes } from '../../functions/worker/bundled-models.js';
import { ortWasmMemoryBytes, workerdSessionFactory } from '../../functions/worker/ort-workerd.js';
import { tuningStoreOf } from '../../functions/worker/worker-tuning.js';
import type { Env } from '../../functions/worker/worker-env.js';
// The default model's fp32 export, the "larger default model": an ArrayBuffer by wrangler.toml's Data rule for .onnx.
// @ts-expect-error no declarations for .onnx modules
import fp32Module from '../../models/sst2-bert/onnx/model.onnx';

type Row = { text: string; label: string };
type Scores = { label: string; score: number }[];

const MiB = 2 ** 20;
const LIMIT = 96 * MiB;
/** Where Workers stop an isolate. */
const WORKERS_LIMIT = 128 * MiB;
/** The JS heap besides ArrayBuffers, which nothing inside workerd reports (see the top of this file). */
const JS_HEAP_ALLOWANCE = 20 * MiB;
const BATCH = 64;

const fp32Onnx = fp32Module as ArrayBuffer;
const sst2 = (env as { TEST_SST2: Row[] }).TEST_SST2;
const ADMIN = { authorization: 'Bearer worker-test-admin', 'content-type': 'application/json' };
const TENANT = 'mem_edge';
let key = '';

const post = (path: string, body: unknown) => exports.default.fetch(new Request(`http://edge.test${path}`, {
  method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
}));

/** The bundle's files: the registry and every bundled model file, held as ArrayBuffers for the isolate's life. */
const bundledBytes = registryBytes.byteLength
  + Object.values(modelFolders).flatMap((files) => Object.values(files)).reduce((sum, bytes) => sum + bytes.byteLength, 0);

/** What the isolate holds, as far as it can be known inside it: WebAssembly memory, bundled files, the JS heap allowance. */
function held(extraBytes = 0): { wasm: number; total: number } {
  const wasm = ortWasmMemoryBytes();
  expect(wasm, 'onnxruntime-web has instantiated its module').not.toBeNull();
  const total = wasm! + bundledBytes + extraBytes + JS_HEAP_ALLOWANCE;
  console.log(`wasm ${(wasm! / MiB).toFixed(1)} MiB + bundled files ${(bundledBytes / MiB).toFixed(1)} MiB + other ${(extraBytes / MiB).toFixed(1)} MiB + JS heap allowance ${JS_HEAP_ALLOWANCE / MiB} MiB = ${(total / MiB).toFixed(1)} MiB`);
  return { wasm: wasm!, total };
}

/** SST-2 dev sentences in batches of 64: real sentence lengths, up to about 60 tokens. */
function burstBatches(): string[][] {
  const texts = sst2.map((r) => r.text);
  const batches: string[][] = [];
  for (let i = 0; i < texts.length; i += BATCH) batches.push(texts.slice(i, i + BATCH));
  return batches;
}

/** 64 texts of eight sentences each: every one cut at the model's 128 tokens, the largest batch a request may send. */
const longestBatch = () => Array.from({ length: BATCH }, (_, i) => sst2.slice(i * 8, i * 8 + 8).map((r) => r.text).join(' '));

/** Sends every batch, four requests in flight at a time (one isolate interleaves them). */
async function burst(send: (texts: string[]) => Promise<void>): Promise<number> {
  const batches = burstBatches();
  for (let i = 0; i < batches.length; i += 4) await Promise.all(batches.slice(i, i + 4).map(send));
  return batches.length;
}

const classifyThroughWorker = (model: string) => async (texts: string[]) => {
  const response = await post('/v1/classify', { model, input: texts, cache: false });
  const body = await response.text();
  expect(response.status, body.slice(0, 300)).toBe(200);
  expect((JSON.parse(body) as { results: Scores[] }).results).toHaveLength(texts.length);
};

beforeAll(async () => {
  const tenant = await exports.default.fetch(new Request('http://edge.test/admin/tenants', { method: 'POST', headers: ADMIN, body: JSON.stringify({ id: TENANT }) }));
  expect(tenant.status).toBe(201);
  const created = await exports.default.fetch(new Request('http://edge.test/admin/keys', { method: 'POST', headers: ADMIN, body: JSON.stringify({ tenant: TENANT, rpm: 100_000 }) }));
  expect(created.status).toBe(201);
  key = ((await created.json()) as { key: string }).key;
});

describe("the Worker's memory inside workerd (<= 96 MB of the isolate's 128 MB)", () => {
  let afterBurst = 0;
  /** Bytes this file makes the isolate hold besides the bundle: tenant heads, the fp32 model's file. */
  let extra = 0;

  it('after loading the models', async () => {
    await classifyThroughWorker('sst2-bert')(['a gorgeous, witty, seductive movie']);
    const { wasm, total } = held();
    expect(wasm).toBeGreaterThan(bundledBytes); // the models' weights live in it, unpacked
    expect(total).toBeLessThanOrEqual(LIMIT);
  });

  it('after bursts of 64-text batches with the default model, repeats adding at most one growth step', async () => {
    expect(await burst(classifyThroughWorker('sst2-bert'))).toBeGreaterThan(10);
    afterBurst = held().wasm;
    for (let repeat = 0; repeat < 2; repeat++) await burst(classifyThroughWorker('sst2-bert'));
    const { wasm, total } = held();
    expect(total).toBeLessThanOrEqual(LIMIT);
    // The same shapes again reuse what the first burst grew, but requests interleave differently each time, and one
    // allocation a little larger grows the memory by a step of 20 % (emscripten's over-growth): a leak of a couple
    // of MiB per burst passes that.
    expect(wasm).toBeLessThanOrEqual(afterBurst * 1.25);
  }, 120_000);

  it('with tenant models loaded: 40 heads of 20 labels on the shared encoder, each serving a 64-text batch', async () => {
    const store = tuningStoreOf(env as Env)!;
    expect(store, 'DB and TUNING_BUCKET are bound').not.toBeNull();
    const labels = Array.from({ length: 20 }, (_, i) => `class_${i}`);
    const names: string[] = [];
    for (let t = 0; t < 40; t++) {
      const jobId = newJobId();
      const name = `ft:electra-imdb-small:${TENANT}:mem${t}:${jobId}`;
      const weights = Float32Array.from({ length: labels.length * 192 }, (_, i) => Math.sin(i + t));
      const head = encodeHead({ base: 'electra-imdb-small@1', labels, dimensions: 192, weights, bias: new Float32Array(labels.length) });
      await store.insertModel({ name, tenantId: TENANT, jobId, base: 'electra-imdb-small@1', labels, head, createdAt: Date.now() });
      names.push(name);
      extra += head.byteLength;
    }
    const batches = burstBatches();
    for (let i = 0; i < names.length; i += 4) {
      await Promise.all(names.slice(i, i + 4).map((name, j) => classifyThroughWorker(name)(batches[(i + j) % batches.length]!)));
    }
    expect(held(extra).total).toBeLessThanOrEqual(LIMIT);
  });

  // Issue 21 item 8: one request of 64 texts at 128 tokens was one session.run of [64, 128], whose activations grew
  // the WebAssembly memory by about 50 MiB, to 83 (99.5 MiB in all; past 128 MB beside the fp32 model below), and
  // WebAssembly memory never shrinks. The Worker now caps one run at DEFAULT_MAX_RUN_TOKENS (16 x 128): the same
  // request runs as four, whose activations fit in what the bursts above already grew.
  it('a 64-text request of 128-token texts runs as capped session.runs and stays within the bound', async () => {
    const before = held(extra).wasm;
    await classifyThroughWorker('sst2-bert')(longestBatch());
    const { wasm, total } = held(extra);
    console.log(`the 64 x 128-token request grew the WebAssembly memory by ${((wasm - before) / MiB).toFixed(1)} MiB`);
    expect(wasm - before).toBeLessThan(16 * MiB);
    expect(total).toBeLessThanOrEqual(LIMIT);
  });

  it('with a larger default model: the fp32 export of sst2-bert beside the bundled ones, after a burst', async () => {
    const bundled = modelFolders['sst2-bert']!;
    const classifier = await classifierFromFiles({
      read: async (path) => (path === 'onnx/model.onnx' ? new Uint8Array(fp32Onnx) : bundled[path] ? new Uint8Array(bundled[path]!) : null),
      onnxFile: 'onnx/model.onnx',
      where: 'sst2-bert (fp32)',
      createSession: workerdSessionFactory(),
    });
    extra += fp32Onnx.byteLength;
    const labelOf = async (text: string) => {
      const [logits] = (await classifier.classify([text])).logits;
      return classifier.labels[logits![0]! > logits![1]! ? 0 : 1];
    };
    expect(await labelOf('a gorgeous, witty, seductive movie')).toBe('POSITIVE');
    expect(await labelOf('a dull, pointless mess')).toBe('NEGATIVE');
    await burst(async (texts) => {
      expect((await classifier.classify(texts)).logits).toHaveLength(texts.length);
    });
    // and the longest request, which runs as capped session.runs here too (the classifier's default cap)
    expect((await classifier.classify(longestBatch())).logits).toHaveLength(BATCH);
    const { wasm, total } = held(extra);
    expect(wasm).toBeGreaterThan(afterBurst); // its weights were added to the same memory
    // Three models in one isolate (int8 default, its fp32 export, the encoder) and twice the measured JS heap: this
    // passes the 96 MB margin by about 2 MiB, with or without the 64 x 128-token request (97.8 MiB; wasm 57.6, the
    // fp32 file 13.2), so only Workers' own limit is held here. As the only default, the fp32 file would replace the int8 one and its weights (a few MiB less).
    expect(total).toBeLessThanOrEqual(WORKERS_LIMIT);
  });

  it('still has no JS heap figure inside workerd (else: use it instead of the allowance)', async () => {
    expect((globalThis as { performance: { memory?: unknown } }).performance.memory).toBeUndefined();
    const { getHeapStatistics } = await import('node:v8');
    expect(getHeapStatistics().used_heap_size).toBe(0);
  });
});
