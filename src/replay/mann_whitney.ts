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
  /** Whether `p` is exact (up to 60 runs in all, ties included) or the normal approximation. */
  exact: boolean;
}

/** Up to this many runs in all get the exact distribution (a few ms); more, the approximation. */
const EXACT_MAX = 60;

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
 * The exact two-sided p-value of a rank sum: the share of the C(m+n, m) ways to split the
 * pooled ranks into samples of m and n whose rank sum lies at least as far from its mean as
 * the observed one. Works on doubled ranks (mid-ranks of ties are halves), so ties are exact
 * too; a dynamic program over (items chosen, doubled rank sum): at most 30 x 60 x 3660 steps.
 */
function exactP(doubledRanks: readonly number[], m: number, observed: number): number {
  const maxSum = doubledRanks.reduce((s, r) => s + r, 0);
  // ways[k][s]: subsets of the ranks seen so far with k items and doubled rank sum s.
  const ways = Array.from({ length: m + 1 }, () => new Float64Array(maxSum + 1));
  ways[0]![0] = 1;
  let seen = 0;
  for (const r of doubledRanks) {
    seen += r;
    for (let k = m; k >= 1; k--) {
      const to = ways[k]!;
      const from = ways[k - 1]!;
      for (let s = seen; s >= r; s--) to[s]! += from[s - r]!;
    }
  }
  const mean = (m * maxSum) / doubledRanks.length;
  const far = Math.abs(observed - mean) - 1e-9; // sums are whole numbers; the mean may not be
  let extreme = 0;
  let total = 0;
  const last = ways[m]!;
  for (let s = 0; s <= maxSum; s++) {
    total += last[s]!;
    if (Math.abs(s - mean) >= far) extreme += last[s]!;
  }
  return Math.min(1, extreme / total);
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
  if (m + n <= EXACT_MAX) {
    return { u, p: exactP(r.map((x) => 2 * x), m, 2 * rankSum), exact: true };
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
  // Both tails of the normal, 2 * (1 - cdf(z)) = erfc(z / sqrt 2), computed as a tail: from the
  // CDF it lost its digits as it shrank, and was 0 from z = 8.3.
  return { u, p: Math.min(1, erfc(Math.max(0, z) / Math.SQRT2)), exact: false };
}

/**
 * The complementary error function for x >= 0, to a relative error below 1.2e-7 however small
 * it is (Numerical Recipes' `erfcc`, a Chebyshev fit), so p-values keep 4 significant digits.
 */
function erfc(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  return t * Math.exp(
    -x * x - 1.26551223 +
      t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
                          t *
                            (-1.13520398 +
                              t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
  );
}
