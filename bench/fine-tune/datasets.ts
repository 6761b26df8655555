/**
 * The benchmark's labelled rows, read from ../shared and sampled with the trainer's own seeded generator, so every
 * run trains and measures on the same rows:
 * (a) SST-2: 1,000 rows of train.tsv (a seeded sample, natural label shares) -> all 872 rows of dev.tsv;
 * (b) IMDB ratings in 4 bands (1-2, 3-4, 7-8, 9-10): 500 reviews per band from train.jsonl.gz and 500 per band from
 *     test.jsonl.gz (balanced, so the majority anchor is chance and every band is measured on as many rows).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { sharedDir, sst2Dir } from '../../functions/node/shared-paths.js';
import { seededRandom, shuffleInPlace } from '../../functions/tuning/trainer/prng.js';
import type { LabelledText } from '../../functions/tuning/trainer/trainer.js';

export interface Task {
  name: string;
  /** How the rows were drawn, for the table. */
  description: string;
  train: LabelledText[];
  test: LabelledText[];
}

export const imdbDir = process.env.IMDB_DIR ?? resolve(sharedDir, 'data', 'imdb');

export interface ImdbReview {
  text: string;
  rating?: number;
}

export async function readImdb(file: 'train' | 'test' | 'unsup'): Promise<ImdbReview[]> {
  const text = gunzipSync(await readFile(join(imdbDir, `${file}.jsonl.gz`))).toString('utf8');
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as ImdbReview);
}

/** SST-2's TSV rows (header, then text<TAB>0|1), labels named as a user would name them. */
async function readSst2(file: 'train' | 'dev'): Promise<LabelledText[]> {
  const [, ...lines] = (await readFile(join(sst2Dir, `${file}.tsv`), 'utf8')).split('\n').filter((line) => line.trim() !== '');
  return lines.map((line) => {
    const [text, label] = line.split('\t');
    return { text: text!.trim(), label: label!.trim() === '1' ? 'positive' : 'negative' };
  });
}

export async function readSst2Train(): Promise<LabelledText[]> {
  return readSst2('train');
}

/** `count` items drawn without replacement, in the seeded shuffle's order. */
export function seededSample<T>(items: readonly T[], count: number, seed: number): T[] {
  if (count > items.length) throw new RangeError(`asked for ${count} of ${items.length} items`);
  const copy = [...items];
  shuffleInPlace(copy, seededRandom(seed));
  return copy.slice(0, count);
}

/** `perLabel` rows of each label (labels in the order given), shuffled together so no label comes in one block. */
export function balancedSample(rows: readonly LabelledText[], labels: readonly string[], perLabel: number, seed: number): LabelledText[] {
  const picked = labels.flatMap((label, k) => seededSample(rows.filter((row) => row.label === label), perLabel, seed + k));
  return seededSample(picked, picked.length, seed + labels.length);
}

export async function sst2Task(seed: number, trainRows = 1_000): Promise<Task> {
  const [train, dev] = await Promise.all([readSst2('train'), readSst2('dev')]);
  return {
    name: 'SST-2 (2 labels)',
    description: `${trainRows} rows of SST-2 train.tsv (seeded sample, natural label shares) -> all ${dev.length} rows of dev.tsv`,
    train: seededSample(train, trainRows, seed),
    test: dev,
  };
}

export const RATING_BANDS = ['1-2', '3-4', '7-8', '9-10'] as const;

export function ratingBand(rating: number | undefined): string | null {
  if (rating === undefined) return null;
  if (rating <= 2) return '1-2';
  if (rating <= 4) return '3-4';
  if (rating >= 9) return '9-10';
  if (rating >= 7) return '7-8';
  return null;
}

const banded = (reviews: ImdbReview[]): LabelledText[] =>
  reviews.flatMap((review) => {
    const label = ratingBand(review.rating);
    return label ? [{ text: review.text, label }] : [];
  });

export async function imdbRatingsTask(seed: number, perLabel = 500): Promise<Task> {
  const [train, test] = await Promise.all([readImdb('train'), readImdb('test')]);
  return {
    name: 'IMDB rating bands (4 labels)',
    description: `IMDB reviews by rating 1-2 / 3-4 / 7-8 / 9-10: ${perLabel} per band from train.jsonl.gz -> ${perLabel} per band from test.jsonl.gz (balanced, seeded)`,
    train: balancedSample(banded(train), RATING_BANDS, perLabel, seed),
    test: balancedSample(banded(test), RATING_BANDS, perLabel, seed + 100),
  };
}
