/**
 * Picks the next token from logits: greedy at temperature 0, otherwise temperature, top-k and top-p (nucleus)
 * sampling from a seeded generator, so the same seed and input give the same output.
 */
export interface SamplingParams {
  temperature: number;
  topP: number;
  /** 0 means no top-k limit. */
  topK: number;
}

/** xorshift128+ seeded through splitmix64: fast, and the same sequence on every runtime for a given seed. */
export class SeededRandom {
  private s0: bigint;
  private s1: bigint;

  constructor(seed: number) {
    let x = BigInt.asUintN(64, BigInt(Math.floor(seed)));
    const next = () => {
      x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
      let z = x;
      z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
      z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
      return z ^ (z >> 31n);
    };
    this.s0 = next();
    this.s1 = next();
  }

  /** A float in [0, 1). */
  next(): number {
    let a = this.s0;
    const b = this.s1;
    this.s0 = b;
    a ^= BigInt.asUintN(64, a << 23n);
    a ^= a >> 17n;
    a ^= b ^ (b >> 26n);
    this.s1 = a;
    return Number(BigInt.asUintN(64, a + b) >> 11n) / 2 ** 53;
  }
}

export function argmaxIndex(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Plain softmax sampling, without the sort that top-k and top-p need. */
function sampleAll(logits: Float32Array, temperature: number, random: SeededRandom): number {
  const max = logits[argmaxIndex(logits)]!;
  const weights = new Float64Array(logits.length);
  let total = 0;
  for (let i = 0; i < logits.length; i++) total += weights[i] = Math.exp((logits[i]! - max) / temperature);
  let r = random.next() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r <= 0) return i;
  }
  return logits.length - 1;
}

export function sampleToken(logits: Float32Array, params: SamplingParams, random: SeededRandom): number {
  if (params.temperature <= 0) return argmaxIndex(logits);
  if ((params.topK <= 0 || params.topK >= logits.length) && params.topP >= 1) return sampleAll(logits, params.temperature, random);
  let order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]!);
  if (params.topK > 0) order = order.slice(0, params.topK);
  const max = logits[order[0]!]!;
  const weights = order.map((i) => Math.exp((logits[i]! - max) / params.temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let kept = order.length;
  if (params.topP < 1) {
    let mass = 0;
    for (kept = 0; kept < order.length && mass < params.topP * total; kept++) mass += weights[kept]!;
  }
  const keptTotal = weights.slice(0, kept).reduce((a, b) => a + b, 0);
  let r = random.next() * keptTotal;
  for (let i = 0; i < kept; i++) {
    r -= weights[i]!;
    if (r <= 0) return order[i]!;
  }
  return order[kept - 1]!;
}
