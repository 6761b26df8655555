/**
 * Predicts how long a batch of n items takes from the batches measured so far: a fixed cost per run plus a cost
 * per item, fitted by exponentially weighted least squares so that it follows the current load (text lengths,
 * a busy machine) within a few dozen batches.
 */
export class BatchCostModel {
  private weight = 0;
  private sumN = 0;
  private sumMs = 0;
  private sumNN = 0;
  private sumNMs = 0;

  constructor(private readonly decay = 0.95) {}

  record(items: number, ms: number): void {
    const d = this.decay;
    this.weight = this.weight * d + 1;
    this.sumN = this.sumN * d + items;
    this.sumMs = this.sumMs * d + ms;
    this.sumNN = this.sumNN * d + items * items;
    this.sumNMs = this.sumNMs * d + items * ms;
  }

  /** Milliseconds for a batch of `items`; 0 before anything was measured. */
  predict(items: number): number {
    if (this.weight === 0 || items <= 0) return 0;
    const meanN = this.sumN / this.weight;
    const meanMs = this.sumMs / this.weight;
    const variance = this.sumNN / this.weight - meanN * meanN;
    // One batch size seen so far: scale down to smaller batches, but do not extrapolate to larger ones. Erring
    // low only admits work that the deadline check sheds later; erring high would refuse a first burst on the
    // strength of one small batch's fixed cost.
    if (variance < 1e-6 * meanN * meanN) return (meanMs * Math.min(items, meanN)) / meanN;
    const perItem = (this.sumNMs / this.weight - meanN * meanMs) / variance;
    const fixed = meanMs - perItem * meanN;
    // Noise can tip the fit past what is physical: no fixed cost (a line through 0), or no cost per item.
    if (perItem < 0) return meanMs;
    if (fixed < 0) return (this.sumNMs / this.sumNN) * items;
    return fixed + perItem * items;
  }
}
