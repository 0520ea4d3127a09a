/**
 * Zipf-distributed ranks: rank `k` (0-based) has weight `1 / (k + 1) ** s`. The cumulative
 * weights are precomputed once (O(n) memory) and each draw is a binary search, O(log n).
 *
 * @module
 */

/** A Zipf sampler over ranks `0..n-1` with exponent `s` (> 0). */
export class ZipfSampler {
  readonly #cdf: Float64Array;
  readonly #total: number;

  constructor(n: number, s: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`Zipf size must be >= 1: ${n}`);
    if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`Zipf exponent must be > 0: ${s}`);
    const cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      sum += 1 / Math.pow(k + 1, s);
      cdf[k] = sum;
    }
    this.#cdf = cdf;
    this.#total = sum;
  }

  /** The rank for a uniform `u` in [0, 1). */
  rank(u: number): number {
    const cdf = this.#cdf;
    const target = u * this.#total;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
