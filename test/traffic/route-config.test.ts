/**
 * What a route may say, checked against this checkout's registry before anything is stored, and the sticky buckets:
 * uniform over many keys (chi-square), the same for the same key, and laid out so that moving weight between two
 * neighbours moves only the keys in between.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import type { Registry } from '../../functions/registry/registry.js';
import { ApiError } from '../../functions/http/errors.js';
import { parseRouteBody } from '../../functions/traffic/route-config.js';
import { stickyBucket, versionForBucket } from '../../functions/traffic/sticky-hash.js';

let registry: Registry;
beforeAll(async () => {
  registry = await readLocalRegistry();
});

const BILSTM = 'sst2-glove-bilstm@2';
const BERT = 'sst2-bert@3';

function refusal(body: Record<string, unknown>, alias = 'sentiment', servesClassifier?: (m: { id: string }) => boolean): ApiError {
  try {
    parseRouteBody(alias, body, { registry, servesClassifier });
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
}

describe('parseRouteBody', () => {
  it('takes weights by any name the registry resolves, stored as id@version in id@version order whatever the order given, and a shadow', () => {
    const route = parseRouteBody('sentiment', { weights: { [BILSTM]: 90, 'sentiment-transformer': 10 }, shadow: { model: 'sst2-bert', percent: 2.5 } }, { registry });
    expect(route).toEqual({ alias: 'sentiment', weights: [{ model: BERT, weight: 10 }, { model: BILSTM, weight: 90 }], shadow: { model: BERT, percent: 2.5 } });
    expect(parseRouteBody('sentiment', { weights: { 'sentiment-transformer': 10, [BILSTM]: 90 }, shadow: { model: 'sst2-bert', percent: 2.5 } }, { registry })).toEqual(route);
    expect(parseRouteBody('sst2-bert', { weights: { [BERT]: 100 }, shadow: null }, { registry }).shadow).toBeNull();
    // A shadow equal to one of two answering versions runs for the other's requests.
    expect(parseRouteBody('sentiment', { weights: { [BERT]: 99, [BILSTM]: 1 }, shadow: { model: BERT, percent: 5 } }, { registry }).shadow).toEqual({ model: BERT, percent: 5 });
  });

  it('refuses each kind of bad input with a 400 naming the field', () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ weights: { [BILSTM]: 90, [BERT]: 20 } }, 'weights', 'weights_not_100'],
      [{ weights: { [BILSTM]: 90 } }, 'weights', 'weights_not_100'],
      [{ weights: {} }, 'weights', 'invalid_weights'],
      [{ weights: [BILSTM] }, 'weights', 'invalid_weights'],
      [{}, 'weights', 'invalid_weights'],
      [{ weights: { [BILSTM]: 110, [BERT]: -10 } }, `weights.${BILSTM}`, 'invalid_weight'],
      [{ weights: { [BILSTM]: 90.5, [BERT]: 9.5 } }, `weights.${BILSTM}`, 'invalid_weight'],
      [{ weights: { [BILSTM]: '90', [BERT]: 10 } }, `weights.${BILSTM}`, 'invalid_weight'],
      [{ weights: { [BILSTM]: 90, 'sst2-bert@9': 10 } }, 'weights.sst2-bert@9', 'model_not_found'],
      [{ weights: { [BILSTM]: 90, 'stories260K@1': 10 } }, 'weights.stories260K@1', 'wrong_task'],
      [{ weights: { [BILSTM]: 90, encoder: 10 } }, 'weights.encoder', 'wrong_task'],
      [{ weights: { [BILSTM]: 50, sentiment: 50 } }, 'weights.sentiment', 'duplicate_version'],
      [{ weights: { [BILSTM]: 100 }, shadow: { model: 'nope', percent: 5 } }, 'shadow.model', 'model_not_found'],
      [{ weights: { [BILSTM]: 100 }, shadow: { model: 'tiny-stories', percent: 5 } }, 'shadow.model', 'wrong_task'],
      [{ weights: { [BILSTM]: 100 }, shadow: { model: BERT, percent: -1 } }, 'shadow.percent', 'invalid_percent'],
      [{ weights: { [BILSTM]: 100 }, shadow: { model: BERT, percent: 101 } }, 'shadow.percent', 'invalid_percent'],
      [{ weights: { [BILSTM]: 100 }, shadow: { model: BERT } }, 'shadow.percent', 'invalid_percent'],
      [{ weights: { [BILSTM]: 100 }, shadow: { model: BERT, percent: 5, share: 1 } }, 'shadow.share', 'unknown_field'],
      [{ weights: { [BILSTM]: 100 }, shadow: 'sst2-bert@3' }, 'shadow', 'invalid_shadow'],
      [{ weights: { [BILSTM]: 100 }, weight: 5 }, 'weight', 'unknown_field'],
      // A shadow never runs on the version that answered: one equal to every answering version never runs at all.
      [{ weights: { [BERT]: 100 }, shadow: { model: BERT, percent: 5 } }, 'shadow.model', 'shadow_never_runs'],
      [{ weights: { [BERT]: 100 }, shadow: { model: 'sst2-bert', percent: 50 } }, 'shadow.model', 'shadow_never_runs'],
      [{ weights: { [BERT]: 100, [BILSTM]: 0 }, shadow: { model: 'sentiment-transformer', percent: 50 } }, 'shadow.model', 'shadow_never_runs'],
    ];
    for (const [body, param, code] of cases) {
      const error = refusal(body);
      expect([error.status, error.param, error.code], JSON.stringify(body)).toEqual([400, param, code]);
      expect(error.message.length).toBeGreaterThan(10);
    }
  });

  it('refuses a version this deployment has no classifier for, a shadow on a generation alias, and names that are no alias', () => {
    expect(refusal({ weights: { [BILSTM]: 50, [BERT]: 50 } }, 'sentiment', (m) => m.id !== 'sst2-bert').code).toBe('model_not_served');
    expect(refusal({ weights: { 'stories260K@1': 100 }, shadow: { model: 'stories260K@1', percent: 5 } }, 'tiny-stories').param).toBe('shadow');
    expect(refusal({ weights: { [BILSTM]: 100 } }, 'tiny-stories').code).toBe('wrong_task');
    expect([refusal({ weights: { [BILSTM]: 100 } }, 'nothing-by-this-name').status, refusal({ weights: { [BILSTM]: 100 } }, 'nothing-by-this-name').param]).toEqual([404, 'alias']);
    expect(refusal({ weights: { [BILSTM]: 100 } }, BILSTM).param).toBe('alias');
    expect(refusal({ weights: { [BILSTM]: 100 } }, 'encoder').code).toBe('wrong_task');
  });
});

describe('sticky buckets', () => {
  it('are laid out by id@version, not by the order the weights are listed: the same weights give every key the same version', async () => {
    const listed = [{ model: BILSTM, weight: 60 }, { model: BERT, weight: 30 }, { model: 'distilbert-sst2@1', weight: 10 }];
    const orders = [listed, [...listed].reverse(), [listed[1]!, listed[0]!, listed[2]!]];
    const keys = Array.from({ length: 300 }, () => randomUUID());
    const buckets = await Promise.all(keys.map((k) => stickyBucket('sentiment', `key:${k}`)));
    const seen = orders.map((weights) => buckets.map((b) => versionForBucket(weights, b)));
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[2]).toEqual(seen[0]);
    expect(new Set(seen[0]).size).toBe(3);
  });

  it('are the same for the same key and alias, and differ by alias', async () => {
    const key = randomUUID();
    const buckets = await Promise.all(Array.from({ length: 5 }, () => stickyBucket('sentiment', key)));
    expect(new Set(buckets).size).toBe(1);
    const byAlias = await Promise.all(Array.from({ length: 200 }, (_, i) => stickyBucket(`alias-${i}`, key)));
    expect(new Set(byAlias).size).toBeGreaterThan(50);
  });

  it('are uniform over 100,000 keys (chi-square, 99 degrees of freedom, below the 0.9999 quantile)', async () => {
    const counts = new Array<number>(100).fill(0);
    const buckets = await Promise.all(Array.from({ length: 100_000 }, () => stickyBucket('sentiment', randomUUID())));
    for (const b of buckets) counts[b]! += 1;
    const expected = 1_000;
    const chi2 = counts.reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    expect(buckets.every((b) => Number.isInteger(b) && b >= 0 && b < 100)).toBe(true);
    expect(chi2).toBeLessThan(157); // chi-square(99) 0.9999 quantile is about 156.6
  });

  it('move only the keys between two neighbours when weight moves between them, in either order the weights are listed', () => {
    const before = [{ model: 'a', weight: 90 }, { model: 'b', weight: 10 }];
    const after = [{ model: 'a', weight: 80 }, { model: 'b', weight: 20 }];
    for (const [from, to] of [[before, after], [[...before].reverse(), after], [before, [...after].reverse()]]) {
      const moved = Array.from({ length: 100 }, (_, b) => b).filter((b) => versionForBucket(from!, b) !== versionForBucket(to!, b));
      expect(moved).toEqual(Array.from({ length: 10 }, (_, i) => 80 + i));
      expect(moved.every((b) => versionForBucket(from!, b) === 'a' && versionForBucket(to!, b) === 'b')).toBe(true);
    }
    expect(Array.from({ length: 100 }, (_, b) => versionForBucket([{ model: 'x', weight: 0 }, { model: 'y', weight: 100 }], b)).every((v) => v === 'y')).toBe(true);
  });
});
