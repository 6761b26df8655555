// The heap-based BPE must give exactly the ids of the quadratic scan it replaced, and grow sub-quadratically.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { QuadraticBpe } from '../../bench/tokenizer/quadratic-bpe.js';
import { BpeTokenizer } from '../../functions/engine/tokenizer/bpe-tokenizer.js';
import { devTsv, sharedDir, storiesDir } from '../paths.js';
import { GREEDY, REFERENCE, storiesEngine } from './helpers.js';

const json = JSON.parse(await readFile(`${storiesDir}/tokenizer.json`, 'utf8')) as unknown;
const ours = BpeTokenizer.fromJson(json);
const old = new QuadraticBpe(json as ConstructorParameters<typeof QuadraticBpe>[0]);

function expectSameIds(texts: string[]) {
  for (const text of texts) {
    for (const bos of [true, false]) expect(ours.encode(text, bos), JSON.stringify(text.slice(0, 80))).toEqual(old.encode(text, bos));
  }
}

/** A small seeded generator, so a failure names a reproducible string. */
function seeded(seed: number) {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

async function imdbReviews(count: number, maxChars: number): Promise<string[]> {
  const lines = createInterface({ input: createReadStream(`${sharedDir}/data/imdb/test.jsonl.gz`).pipe(createGunzip()) });
  const reviews: string[] = [];
  for await (const line of lines) {
    reviews.push((JSON.parse(line) as { text: string }).text.slice(0, maxChars));
    if (reviews.length === count) break;
  }
  lines.close();
  return reviews;
}

describe('BpeTokenizer merges through a heap', () => {
  it('gives the quadratic scan ids on random strings: letters, runs of spaces, unicode, byte fallback, "▁", lone surrogates', () => {
    const alphabet = [...'abcdefghijklmnopqrstuvwxyz eeettaaoonnss', ' ', '  ', '.', ',', '!', "'", '"', '\n', '\t', 'é', 'ü', 'ß', '日', '本', '🙂', '👩‍👩‍👧', '\u2581', '<s>', '</s>', '<0x41>', '\ud800', '\udfff', 'Once', ' the', 'Lily'];
    const random = seeded(17);
    const texts = Array.from({ length: 1500 }, () => {
      const length = Math.floor(random() * 120);
      return Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    });
    expectSameIds(['', ' ', '  ', 'a', 'aaaaaaaaaaaaaaaa', '\u2581\u2581\u2581', ...texts]);
  });

  it('gives the quadratic scan ids on real text: SST-2 sentences, IMDB reviews, stories the model writes', async () => {
    const sst2 = (await readFile(devTsv, 'utf8')).split('\n').slice(1).map((line) => line.split('\t')[0]!);
    const engine = await storiesEngine();
    const stories = await Promise.all([1, 2, 3, 4].map(async (seed) => (await engine.generate({ promptIds: engine.tokenizer.encode('Once upon a time'), maxTokens: 200, sampling: { temperature: 0.9, topP: 0.95, topK: 0 }, seed, stop: [] })).text));
    const greedy = (await engine.generate({ promptIds: engine.tokenizer.encode('Lily'), maxTokens: 200, sampling: GREEDY, seed: 0, stop: [] })).text;
    expectSameIds([REFERENCE, greedy, ...stories, stories.join('\n\n'), ...sst2, ...(await imdbReviews(25, 1_200))]);
  });

  it('grows sub-quadratically: it looks up O(n) merge pairs, where the quadratic scan looks up O(n²)', () => {
    const story = `${REFERENCE} One day, she saw a big red ball near the tree. "Can I play?" asked Tom. They laughed and ran home.\n`;
    const text = (chars: number) => story.repeat(Math.ceil(chars / story.length)).slice(0, chars);
    // Work, not time: every candidate pair either algorithm examines is one lookup in the merge ranks. The heap looks
    // each pair up when it is made (n - 1 at first, 2 per merge) and once more when it leaves the queue, so at most
    // 6 per symbol whatever the text; the scan looks up every pair again after each merge. A count cannot flake on a
    // busy machine; the time it takes is bench:tokenizer's to measure.
    const lookups = (tokenizer: BpeTokenizer, input: string) => {
      const ranks = (tokenizer as unknown as { ranks: Map<string, number> }).ranks;
      let count = 0;
      ranks.get = (pair: string) => (count++, Map.prototype.get.call(ranks, pair) as number | undefined);
      try {
        tokenizer.encode(input);
      } finally {
        delete (ranks as Partial<Map<string, number>>).get; // the Map's own get again
      }
      return count;
    };
    const symbols = (input: string) => Array.from(input).length + 1; // the "▁" prepended
    const counted = BpeTokenizer.fromJson(json);
    const small = lookups(counted, text(16_000));
    const large = lookups(counted, text(64_000));
    expect(large).toBeLessThanOrEqual(6 * symbols(text(64_000)));
    expect(large / small).toBeLessThan(4.5); // linear: 4x the text, about 4x the lookups
    // The same count tells the quadratic scan apart at a size it still runs quickly: 4x the text, about 16x the lookups.
    const scan = new QuadraticBpe(json as ConstructorParameters<typeof QuadraticBpe>[0]);
    const scanSmall = lookups(scan, text(1_000));
    const scanLarge = lookups(scan, text(4_000));
    expect(scanLarge / scanSmall).toBeGreaterThan(12);
    expect(scanLarge).toBeGreaterThan(6 * symbols(text(4_000)));
  });
});
