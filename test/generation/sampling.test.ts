import { describe, expect, it } from 'vitest';
import { argmaxIndex, sampleToken, SeededRandom } from '../../functions/engine/generation/sampler.js';
import { StopMatcher } from '../../functions/engine/generation/stop-matcher.js';

const logits = Float32Array.from([0.1, 2.5, 2.4, -1, 0.3]);

describe('sampling', () => {
  it('is greedy at temperature 0 and with top_k 1', () => {
    expect(sampleToken(logits, { temperature: 0, topP: 1, topK: 0 }, new SeededRandom(1))).toBe(1);
    for (let seed = 0; seed < 20; seed++) expect(sampleToken(logits, { temperature: 1, topP: 1, topK: 1 }, new SeededRandom(seed))).toBe(1);
  });

  it('keeps only the nucleus with top_p', () => {
    const picked = new Set(Array.from({ length: 200 }, (_, s) => sampleToken(logits, { temperature: 1, topP: 0.5, topK: 0 }, new SeededRandom(s))));
    expect([...picked].every((i) => i === 1 || i === 2)).toBe(true);
  });

  it('repeats with the same seed and varies across seeds, close to the softmax', () => {
    const draw = (seed: number) => { const r = new SeededRandom(seed); return Array.from({ length: 50 }, () => sampleToken(logits, { temperature: 1, topP: 1, topK: 0 }, r)); };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    const r = new SeededRandom(3);
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 20_000; i++) counts[sampleToken(logits, { temperature: 1, topP: 1, topK: 0 }, r)]!++;
    const z = Array.from(logits, Math.exp).reduce((a, b) => a + b, 0);
    counts.forEach((n, i) => expect(Math.abs(n / 20_000 - Math.exp(logits[i]!) / z)).toBeLessThan(0.015));
    expect(argmaxIndex(logits)).toBe(1);
  });
});

describe('StopMatcher', () => {
  it('holds back a possible start of a stop string and cuts at the stop', () => {
    const m = new StopMatcher(['THE END']);
    expect(m.push('and so TH')).toEqual({ release: 'and so ', stopped: false });
    expect(m.push('ey went')).toEqual({ release: 'THey went', stopped: false });
    expect(m.push('. THE E')).toEqual({ release: '. ', stopped: false });
    expect(m.push('ND and more')).toEqual({ release: '', stopped: true });
  });

  it('releases the held text when generation ends otherwise', () => {
    const m = new StopMatcher(['\n\n']);
    expect(m.push('line\n').release).toBe('line');
    expect(m.flush()).toBe('\n');
  });
});
