/**
 * A binary min-heap of numbers in a growable Float64Array: the BPE merge queue, whose keys encode a candidate
 * pair as rank * symbols + left position, so the smallest key is the lowest-ranked, leftmost pair. Plain numbers
 * keep a long prompt's queue free of per-entry objects (and of the garbage collection they cost).
 */
export class MinHeap {
  private keys: Float64Array;
  private count = 0;

  constructor(capacity = 16) {
    this.keys = new Float64Array(Math.max(1, capacity));
  }

  get size(): number {
    return this.count;
  }

  push(key: number): void {
    if (this.count === this.keys.length) {
      const grown = new Float64Array(this.keys.length * 2);
      grown.set(this.keys);
      this.keys = grown;
    }
    const keys = this.keys;
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent]! <= key) break;
      keys[i] = keys[parent]!;
      i = parent;
    }
    keys[i] = key;
  }

  /** The smallest key, removed; undefined when empty. */
  pop(): number | undefined {
    if (this.count === 0) return undefined;
    const keys = this.keys;
    const top = keys[0]!;
    const last = keys[--this.count]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.count) break;
      if (child + 1 < this.count && keys[child + 1]! < keys[child]!) child++;
      if (keys[child]! >= last) break;
      keys[i] = keys[child]!;
      i = child;
    }
    keys[i] = last;
    return top;
  }
}
