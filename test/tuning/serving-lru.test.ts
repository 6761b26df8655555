import { describe, expect, it } from 'vitest';
import { LruByBytes } from '../../functions/tuning/serving/lru-by-bytes.js';

describe('LruByBytes', () => {
  it('evicts the least recently used entries once past its bytes', () => {
    const cache = new LruByBytes<string>(100);
    cache.set('a', 'A', 40);
    cache.set('b', 'B', 40);
    expect(cache.get('a')).toBe('A'); // a is now the most recent
    cache.set('c', 'C', 40);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c')]).toEqual(['A', 'C']);
    expect(cache.bytes).toBe(80);
  });

  it('replaces an entry, deletes one, and keeps none larger than its bound', () => {
    const cache = new LruByBytes<string>(100);
    cache.set('a', 'A', 60);
    cache.set('a', 'A2', 30);
    expect([cache.get('a'), cache.bytes]).toEqual(['A2', 30]);
    cache.set('huge', 'H', 101);
    expect([cache.get('huge'), cache.size]).toEqual([undefined, 1]);
    cache.delete('a');
    expect([cache.size, cache.bytes]).toEqual([0, 0]);
  });
});
