/**
 * The Mann-Whitney U test: do two samples of runs (ops/s of each side of an A/B comparison)
 * come from the same distribution? Rank-based, so it assumes nothing about the shape of the
 * run-to-run noise (which on a shared 2-core machine is anything but normal), and it is exact
 * for the small samples `--repeat` gives.
 *
 * @module
 */

/** The test's outcome. */
export interface MannWhitney {
  /** The U statistic of the first sample (the number of pairs in which it is the larger). */
  u: number;
  /** Two-sided p-value: the chance of a U at least this extreme if the samples do not differ. */
  p: number;
  /** Whether `p` is exact (small samples without ties) or the normal approximation. */
  exact: boolean;
}

/** Samples up to this size (each) get the exact distribution; larger ones the approximation. */
const EXACT_MAX = 20;

/** Ranks 1..n of `values`, ties sharing their mean rank. */
function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(values.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const mean = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k]![1]] = mean;
    i = j + 1;
  }
  return out;
}

/**
 * The number of arrangements of `m` and `n` items giving each U = 0..m*n: the exact null
 * distribution (counts[u] / C(m+n, m)), by the recurrence f(m, n, u) = f(m-1, n, u-n) +
 * f(m, n-1, u).
 */
function uCounts(m: number, n: number): number[] {
  // f[j][u] for the current i (rows of n), built up i = 0..m.
  let prev: number[][] = Array.from({ length: n + 1 }, () => [1]);
  for (let i = 1; i <= m; i++) {
    const cur: number[][] = [[1]];
    for (let j = 1; j <= n; j++) {
      const size = i * j + 1;
      const row = new Array<number>(size).fill(0);
      const a = prev[j]!; // f(i-1, j, u - j)
      const b = cur[j - 1]!; // f(i, j-1, u)
      for (let u = 0; u < size; u++) {
        row[u] = (u - j >= 0 ? a[u - j] ?? 0 : 0) + (b[u] ?? 0);
      }
      cur.push(row);
    }
    prev = cur;
  }
  return prev[n]!;
}

/**
 * Two-sided Mann-Whitney U test of `a` against `b`. Throws RangeError when either sample is
 * empty.
 */
export function mannWhitney(a: readonly number[], b: readonly number[]): MannWhitney {
  const m = a.length;
  const n = b.length;
  if (m === 0 || n === 0) throw new RangeError("mannWhitney() needs two non-empty samples");
  const r = ranks([...a, ...b]);
  let rankSum = 0;
  for (let i = 0; i < m; i++) rankSum += r[i]!;
  const u = rankSum - (m * (m + 1)) / 2;
  const tied = new Set(r).size < r.length;
  const extreme = Math.min(u, m * n - u); // the tail the observed U lies in
  if (m <= EXACT_MAX && n <= EXACT_MAX && !tied) {
    const counts = uCounts(m, n);
    const total = counts.reduce((s, c) => s + c, 0);
    let tail = 0;
    for (let k = 0; k <= extreme; k++) tail += counts[k]!;
    return { u, p: Math.min(1, (2 * tail) / total), exact: true };
  }
  // Normal approximation with the tie correction and a continuity correction.
  const N = m + n;
  let tieTerm = 0;
  const seen = new Map<number, number>();
  for (const x of r) seen.set(x, (seen.get(x) ?? 0) + 1);
  for (const t of seen.values()) tieTerm += t ** 3 - t;
  const variance = (m * n / 12) * ((N + 1) - tieTerm / (N * (N - 1)));
  if (variance <= 0) return { u, p: 1, exact: false }; // every value equal
  const z = (Math.abs(u - (m * n) / 2) - 0.5) / Math.sqrt(variance);
  return { u, p: Math.min(1, 2 * (1 - normalCdf(Math.max(0, z)))), exact: false };
}

/** The standard normal CDF (Abramowitz and Stegun 26.2.17, error below 7.5e-8). */
function normalCdf(z: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(z));
  const d = 0.3989422804014327 * Math.exp(-z * z / 2);
  const tail = d * t *
    (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return z >= 0 ? 1 - tail : tail;
}
