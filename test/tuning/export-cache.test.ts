import { describe, expect, it } from 'vitest';
import { ExportCache, type ExportIdentity } from '../../functions/tuning/export/export-cache.js';

const model = (name: string, head = Uint8Array.of(1, 2, 3)): ExportIdentity => ({ tenantId: 'acme', name, base: 'electra-imdb-small@1', head, createdAt: 1_800_000_000 });
const counting = (bytes: number) => {
  let builds = 0;
  const build = async () => {
    builds++;
    await new Promise((r) => setTimeout(r, 5));
    return new Uint8Array(bytes).fill(builds);
  };
  return { build, builds: () => builds };
};

describe('ExportCache', () => {
  it('builds a model once, shares a build in progress, and rebuilds when what the zip is made of differs', async () => {
    const cache = new ExportCache(1000);
    const { build, builds } = counting(100);
    const [a, b] = await Promise.all([cache.zipOf(model('m'), build), cache.zipOf(model('m'), build)]);
    expect(builds()).toBe(1);
    expect(b).toBe(a);
    expect(await cache.zipOf(model('m'), build)).toBe(a);
    expect(builds()).toBe(1);
    await cache.zipOf(model('m', Uint8Array.of(9)), build); // same name, another head
    expect(builds()).toBe(2);
    expect(cache.size).toBe(1);
  });

  it('keeps at most its bytes, least recently used out first, and an evicted model is built again', async () => {
    const cache = new ExportCache(250);
    const { build, builds } = counting(100);
    await cache.zipOf(model('a'), build);
    await cache.zipOf(model('b'), build);
    await cache.zipOf(model('a'), build); // a is now the most recent
    await cache.zipOf(model('c'), build); // b goes
    expect([cache.size, cache.bytes, builds()]).toEqual([2, 200, 3]);
    await cache.zipOf(model('a'), build);
    expect(builds()).toBe(3);
    cache.evict('acme', 'a');
    await cache.zipOf(model('a'), build);
    expect(builds()).toBe(4);
  });

  it('keeps nothing of a build that a delete overtook', async () => {
    const cache = new ExportCache(1000);
    const { build } = counting(100);
    const building = cache.zipOf(model('m'), build);
    await new Promise((r) => setTimeout(r, 0));
    cache.evict('acme', 'm');
    expect((await building).length).toBe(100);
    expect(cache.size).toBe(0);
  });
});
