/**
 * npm run bench:tokenizer: the generation tokenizer's encode time, the heap-based BPE against the quadratic scan
 * it replaced, at 1k, 4k, 16k and 64k characters of story text (stories260K's tokenizer.json). The new encoder
 * reports its fastest of 5 runs; the old one runs once per size above 4k (it needs minutes at 64k).
 * BENCH_OLD_MAX_CHARS skips the old encoder above that size.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BpeTokenizer } from '../../functions/engine/tokenizer/bpe-tokenizer.js';
import { sharedDir } from '../../functions/node/shared-paths.js';
import { QuadraticBpe } from './quadratic-bpe.js';

const SIZES = [1_000, 4_000, 16_000, 64_000];
const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big red ball near the tree. "Can I play?" asked Tom. They laughed and ran home, happy and tired.\n';

const json = JSON.parse(await readFile(resolve(process.env.GEN_MODEL_DIR ?? resolve(sharedDir, 'models', 'stories260K'), 'tokenizer.json'), 'utf8'));
const current = BpeTokenizer.fromJson(json);
const quadratic = new QuadraticBpe(json);
const oldMax = Number(process.env.BENCH_OLD_MAX_CHARS ?? Infinity);

function time(encode: (text: string) => number[], text: string, runs: number): { ms: number; ids: number[] } {
  let best = Infinity;
  let ids: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    ids = encode(text);
    best = Math.min(best, performance.now() - started);
  }
  return { ms: best, ids };
}

const format = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
time((t) => current.encode(t), STORY.repeat(20), 5); // warm up the JIT
console.log('| characters | tokens | heap BPE (now) | quadratic scan (before) | speed-up |');
console.log('|---:|---:|---:|---:|---:|');
for (const size of SIZES) {
  const text = STORY.repeat(Math.ceil(size / STORY.length)).slice(0, size);
  const now = time((t) => current.encode(t), text, 5);
  if (size > oldMax) {
    console.log(`| ${size} | ${now.ids.length} | ${format(now.ms)} | skipped | |`);
    continue;
  }
  const before = time((t) => quadratic.encode(t), text, size > 4_000 ? 1 : 3);
  if (before.ids.join() !== now.ids.join()) throw new Error(`the encoders disagree at ${size} characters`);
  console.log(`| ${size} | ${now.ids.length} | ${format(now.ms)} | ${format(before.ms)} | ${Math.round(before.ms / now.ms)}x |`);
}
