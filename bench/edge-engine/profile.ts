/**
 * Where our engine's time goes in Node WASM, by V8's sampling profiler (the in-process form of `node --cpu-prof`):
 * PROFILE_CALLS (default 2,000) ClassificationEngine.classify calls on SST-2 dev sentences, one at a time, as the
 * Worker makes them, after a warm-up; prints the self time by bucket: the WebAssembly (onnxruntime's kernels),
 * onnxruntime-web's JS, our tokenizer, the rest of our engine, garbage collection, and everything else.
 * Usage: npx tsx bench/edge-engine/profile.ts
 */
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { ClassificationEngine } from '../../functions/engine/classification/classification-engine.js';
import { rankLabels } from '../../functions/engine/classification/scores.js';
import { loadClassifier } from '../../functions/node/load-classifier.js';
import { defaultModelDir, devSentences } from '../classify/sentences.js';

const calls = Number(process.env.PROFILE_CALLS ?? 2000);

function bucketOf(frame: { url: string; functionName: string }): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (url.startsWith('wasm://') || /^\$?wasm-function/.test(functionName)) return 'WebAssembly (onnxruntime kernels)';
  if (url.includes('onnxruntime-')) return "onnxruntime-web's JS";
  if (url.includes('/functions/engine/tokenizer/')) return 'our tokenizer';
  if (url.includes('/functions/engine/')) return 'our engine (feeds, batching, ranking)';
  if (functionName === '(idle)' || functionName === '(program)') return `${functionName.slice(1, -1)}`;
  return 'other JS (Node, tsx, the bench loop)';
}

const sentences = await devSentences(872);
const classifier = await loadClassifier(defaultModelDir, { variant: 'model_quantized', backend: 'wasm', threads: 1 });
const engine = new ClassificationEngine(classifier, { batching: { maxBatchSize: 64, maxWaitMs: 0, maxQueue: 4096 }, batchAcrossRequests: false });
const classify = async (i: number) => {
  const [result] = await engine.classify([sentences[i % sentences.length]!]);
  rankLabels(result!.logits, engine.labels);
};
for (let i = 0; i < 872; i++) await classify(i);

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
for (let i = 0; i < calls; i++) await classify(i);
const { profile } = await session.post('Profiler.stop');
session.disconnect();

const selfUs = new Map<string, number>();
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
profile.samples!.forEach((id, k) => {
  const bucket = bucketOf(byId.get(id)!.callFrame);
  selfUs.set(bucket, (selfUs.get(bucket) ?? 0) + (profile.timeDeltas![k] ?? 0));
});
const busy = [...selfUs].filter(([bucket]) => bucket !== 'idle').reduce((sum, [, us]) => sum + us, 0);
console.log(`${calls} calls, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; self time per call (sampled wall time, so a loaded machine inflates it: read the shares of the non-idle samples):`);
for (const [bucket, us] of [...selfUs].sort((a, b) => b[1] - a[1])) {
  console.log(`  ${bucket.padEnd(40)} ${(us / calls / 1000).toFixed(3)} ms  ${bucket === 'idle' ? '' : `${((100 * us) / busy).toFixed(1)} %`}`);
}
