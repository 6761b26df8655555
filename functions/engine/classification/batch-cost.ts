/**
 * Predicts how long a batch takes from its weight (the summed weights of its items: 1 each by default, or a cost
 * such as a text's length) and the batches measured so far: a fixed cost per run plus a cost per unit of weight,
 * fitted by exponentially weighted least squares so that it follows the current load (text lengths, a busy
 * machine) within a few dozen batches.
 */
export class BatchCostModel {
  private batches = 0;
  private sumW = 0;
  private sumMs = 0;
  private sumWW = 0;
  private sumWMs = 0;

  constructor(private readonly decay = 0.95) {}

  record(weight: number, ms: number): void {
    const d = this.decay;
    this.batches = this.batches * d + 1;
    this.sumW = this.sumW * d + weight;
    this.sumMs = this.sumMs * d + ms;
    this.sumWW = this.sumWW * d + weight * weight;
    this.sumWMs = this.sumWMs * d + weight * ms;
  }

  /** Milliseconds for a batch of `weight`; 0 before anything was measured. */
  predict(weight: number): number {
    if (this.batches === 0 || weight <= 0) return 0;
    const meanW = this.sumW / this.batches;
    const meanMs = this.sumMs / this.batches;
    const variance = this.sumWW / this.batches - meanW * meanW;
    // One batch weight seen so far: scale down to lighter batches, but do not extrapolate to heavier ones. Erring
    // low only admits work that the deadline check sheds later; erring high would refuse a first burst on the
    // strength of one small batch's fixed cost.
    if (variance < 1e-6 * meanW * meanW) return (meanMs * Math.min(weight, meanW)) / meanW;
    const perUnit = (this.sumWMs / this.batches - meanW * meanMs) / variance;
    const fixed = meanMs - perUnit * meanW;
    // Noise can tip the fit past what is physical: no fixed cost (a line through 0), or no cost per unit.
    if (perUnit < 0) return meanMs;
    if (fixed < 0) return (this.sumWMs / this.sumWW) * weight;
    return fixed + perUnit * weight;
  }
}
