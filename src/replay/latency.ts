/**
 * Sampled operation latency: a reservoir (Algorithm R) of the last-seen-uniform `k` samples
 * per op type and overall, kept sorted so percentiles are O(1) at every tick, plus cumulative
 * histograms over every sampled op with the `default` or `micro` bucket preset.
 *
 * @module
 */

import { Sfc32 } from "../workload/prng.ts";

/** Histogram bucket upper bounds in milliseconds, per preset (`+Inf` is implicit). */
export const LATENCY_PRESETS: Readonly<Record<"default" | "micro", readonly number[]>> = Object
  .freeze({
    default: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    micro: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
  });

/** A latency bucket preset name. */
export type LatencyPreset = keyof typeof LATENCY_PRESETS;

/** p50/p90/p99. */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
}

/** A cumulative histogram bucket. */
export interface HistBucket {
  le: number | "+Inf";
  count: number;
}

/** First index in `[lo, hi)` of sorted `d` holding more than `value` (or equal, with `orEqual`). */
function firstAbove(
  d: Float64Array,
  lo: number,
  hi: number,
  value: number,
  orEqual: boolean,
): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (orEqual ? d[mid]! < value : d[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A reservoir of at most `k` samples stored sorted. Replacing a uniformly chosen element keeps
 * Algorithm R's distribution: positions carry no meaning, so the sorted index is as good as any.
 */
export class SortedReservoir {
  readonly k: number;
  #data: Float64Array;
  #size = 0;
  #seen = 0;
  readonly #rng: Sfc32;

  constructor(k: number, seed = 0x5eed) {
    this.k = k;
    this.#data = new Float64Array(Math.max(1, k));
    this.#rng = new Sfc32(seed);
  }

  /** Samples offered so far. */
  get seen(): number {
    return this.#seen;
  }

  /** Samples held. */
  get size(): number {
    return this.#size;
  }

  add(value: number): void {
    this.#seen++;
    if (this.k === 0) return;
    const d = this.#data;
    if (this.#size < this.k) {
      this.#insert(value, this.#size);
      this.#size++;
      return;
    }
    const j = Math.floor(this.#rng.nextFloat() * this.#seen);
    if (j >= this.k) return;
    // Replace a uniformly chosen element, shifting only the elements between it and the new
    // value's place (one short move instead of a removal and an insertion).
    const n = this.#size;
    if (j + 1 < n && d[j + 1]! < value) {
      const at = firstAbove(d, j + 1, n, value, true);
      d.copyWithin(j, j + 1, at);
      d[at - 1] = value;
    } else if (j > 0 && d[j - 1]! > value) {
      const at = firstAbove(d, 0, j, value, false);
      d.copyWithin(at + 1, at, j);
      d[at] = value;
    } else d[j] = value;
  }

  /** Inserts into d[0..n) keeping it sorted (n elements currently in use). */
  #insert(value: number, n: number): void {
    const d = this.#data;
    const at = firstAbove(d, 0, n, value, false);
    d.copyWithin(at + 1, at, n);
    d[at] = value;
  }

  /** The samples held, in ascending order (a copy). */
  values(): Float64Array {
    return this.#data.slice(0, this.#size);
  }

  /** Nearest-rank quantile (0 when empty); monotone in q, so p50 <= p90 <= p99. */
  quantile(q: number): number {
    if (this.#size === 0) return 0;
    const idx = Math.min(this.#size - 1, Math.max(0, Math.ceil(q * this.#size) - 1));
    return this.#data[idx]!;
  }

  /**
   * p50, p90 and p99; with a `scale`, in whole units of it (samples in ms are whole ns, but
   * 0.000511 * 1e6 is 510.99999999999994).
   */
  percentiles(scale = 1): Percentiles {
    const at = (q: number): number =>
      scale === 1 ? this.quantile(q) : Math.round(this.quantile(q) * scale);
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
  }
}

/** Cumulative histogram counts over fixed upper bounds. */
export class LatencyHistogram {
  readonly bounds: readonly number[];
  readonly #counts: Float64Array;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.#counts = new Float64Array(bounds.length + 1);
  }

  add(ms: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && ms > b[i]!) i++;
    this.#counts[i]!++;
  }

  /** Cumulative buckets, the last `le: "+Inf"`. */
  cumulative(): HistBucket[] {
    const out: HistBucket[] = [];
    let sum = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      sum += this.#counts[i]!;
      out.push({ le: this.bounds[i]!, count: sum });
    }
    sum += this.#counts[this.bounds.length]!;
    out.push({ le: "+Inf", count: sum });
    return out;
  }
}

/** Latency per op type (index = op code: put 0, get 1, del 2) and overall. */
export class LatencyRecorder {
  readonly overall: SortedReservoir;
  readonly byOp: [SortedReservoir, SortedReservoir, SortedReservoir];
  readonly histOverall: LatencyHistogram;
  readonly histByOp: [LatencyHistogram, LatencyHistogram, LatencyHistogram];
  readonly preset: LatencyPreset;

  constructor(k: number, preset: LatencyPreset) {
    this.preset = preset;
    const bounds = LATENCY_PRESETS[preset];
    this.overall = new SortedReservoir(k, 1);
    this.byOp = [new SortedReservoir(k, 2), new SortedReservoir(k, 3), new SortedReservoir(k, 4)];
    this.histOverall = new LatencyHistogram(bounds);
    this.histByOp = [
      new LatencyHistogram(bounds),
      new LatencyHistogram(bounds),
      new LatencyHistogram(bounds),
    ];
  }

  record(op: number, ms: number): void {
    this.overall.add(ms);
    this.byOp[op]!.add(ms);
    this.histOverall.add(ms);
    this.histByOp[op]!.add(ms);
  }

  /** `latency_ms` of metrics.v1 and the summary. */
  percentilesMs(): { overall: Percentiles; put: Percentiles; get: Percentiles; del: Percentiles } {
    return {
      overall: this.overall.percentiles(),
      put: this.byOp[0].percentiles(),
      get: this.byOp[1].percentiles(),
      del: this.byOp[2].percentiles(),
    };
  }

  /** `latency_hist_ms` of metrics.v1. */
  histogramsMs(): Record<string, HistBucket[]> {
    return {
      overall: this.histOverall.cumulative(),
      put: this.histByOp[0].cumulative(),
      get: this.histByOp[1].cumulative(),
      del: this.histByOp[2].cumulative(),
    };
  }
}
