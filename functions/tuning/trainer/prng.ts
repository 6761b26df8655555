/**
 * The trainer's only source of randomness: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state,
 * passes PractRand) seeded through splitmix32. Written here rather than taken from a package because a model must be
 * reproducible from its seed for as long as we serve it: a dependency update that changed the stream would change
 * every retrained model, and the generator is a dozen lines.
 */
export type Random = () => number;

function splitmix32(state: number): () => number {
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Uniform numbers in [0, 1) from a seed; any safe integer seeds a distinct stream (its high bits count too). */
export function seededRandom(seed: number): Random {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  const low = seed >>> 0;
  const high = Math.floor(seed / 2 ** 32) >>> 0;
  const mix = splitmix32(low ^ Math.imul(high, 0x27d4eb2d));
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // The first outputs of a fresh state are the least mixed; sfc32's reference skips them too.
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** An integer in [0, n). */
export const randomIndex = (random: Random, n: number): number => Math.floor(random() * n);

/** Fisher-Yates, in place. */
export function shuffleInPlace<T>(items: { [index: number]: T; length: number }, random: Random): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomIndex(random, i + 1);
    const swap = items[i]!;
    items[i] = items[j]!;
    items[j] = swap;
  }
}
