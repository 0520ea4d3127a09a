import assert from "node:assert/strict";
import { mannWhitney } from "../../src/replay/mann_whitney.ts";

function close(actual: number, expected: number, tolerance = 1e-4): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not ~${expected}`);
}

Deno.test("mannWhitney() gives the exact two-sided p of fully separated samples", () => {
  // One arrangement in C(6,3) = 20 is this extreme on each side.
  const three = mannWhitney([1, 2, 3], [4, 5, 6]);
  assert.deepEqual(three, { u: 0, p: 0.1, exact: true });
  assert.equal(mannWhitney([4, 5, 6], [1, 2, 3]).u, 9);
  close(mannWhitney([4, 5, 6], [1, 2, 3]).p, 0.1);
  close(mannWhitney([1, 2, 3, 4], [5, 6, 7, 8]).p, 2 / 70);
  close(mannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).p, 2 / 252);
});

Deno.test("mannWhitney() matches published exact tables and says 1 for interleaved samples", () => {
  // m = n = 5, U = 3 (5 > 4, 7 > 4, 7 > 6): P(U <= 3) = 7/252 in the exact table.
  const r = mannWhitney([1, 2, 3, 5, 7], [4, 6, 8, 9, 10]);
  assert.equal(r.u, 3);
  close(r.p, 14 / 252);
  // m = n = 4, U = 6: P(U <= 6) = 24/70.
  close(mannWhitney([1, 3, 5, 7], [2, 4, 6, 8]).p, 48 / 70);
  assert.equal(mannWhitney([1, 4, 5, 8], [2, 3, 6, 7]).p, 1);
});

/** The two-sided p by brute force: every way to split the pooled values into m and n. */
function enumerated(a: number[], b: number[]): number {
  const all = [...a, ...b];
  const m = a.length;
  const uOf = (xs: number[], ys: number[]) => {
    let u = 0;
    for (const x of xs) for (const y of ys) u += x > y ? 1 : x === y ? 0.5 : 0;
    return u;
  };
  const half = (m * b.length) / 2;
  const observed = Math.abs(uOf(a, b) - half);
  let extreme = 0;
  let total = 0;
  for (let mask = 0; mask < 1 << all.length; mask++) {
    let bits = 0;
    for (let x = mask; x; x &= x - 1) bits++;
    if (bits !== m) continue;
    const xs = all.filter((_, i) => mask & (1 << i));
    const ys = all.filter((_, i) => !(mask & (1 << i)));
    total++;
    if (Math.abs(uOf(xs, ys) - half) >= observed - 1e-9) extreme++;
  }
  return extreme / total;
}

Deno.test("mannWhitney() is exact with ties and unequal sizes, as a brute-force enumeration", () => {
  // Three tied runs a side, all apart: no better than the 0.1 of three distinct runs.
  assert.deepEqual(mannWhitney([1000, 1000, 1000], [1100, 1100, 1100]), {
    u: 0,
    p: 0.1,
    exact: true,
  });
  close(mannWhitney([1, 2, 3, 4], [4, 5, 6, 7]).p, enumerated([1, 2, 3, 4], [4, 5, 6, 7]), 1e-12);
  let x = 7;
  const rnd = (k: number) => (x = (x * 1103515245 + 12345) & 0x7fffffff) % k;
  for (let trial = 0; trial < 300; trial++) {
    const a = Array.from({ length: 1 + rnd(6) }, () => rnd(6));
    const b = Array.from({ length: 1 + rnd(6) }, () => rnd(6));
    const r = mannWhitney(a, b);
    assert.equal(r.exact, true);
    close(r.p, enumerated(a, b), 1e-12);
  }
});

Deno.test("mannWhitney() keeps 4 significant digits of tiny normal-approximation p-values", () => {
  // U = 0, no ties: z = (mn/2 - 0.5) / sqrt(mn(N+1)/12), p = erfc(z / sqrt 2), the references
  // from Python's math.erfc.
  const run = (m: number, n: number) =>
    mannWhitney(Array.from({ length: m }, (_, i) => i), Array.from({ length: n }, (_, i) => m + i));
  for (
    const [m, n, expected] of [[31, 30, 2.0701106196976567e-11], [50, 50, 7.066071930389029e-18]]
  ) {
    const { p, exact } = run(m!, n!);
    assert.equal(exact, false);
    assert.ok(Math.abs(p / expected! - 1) < 1e-4, `${m} v ${n}: ${p}, not ${expected}`);
  }
});

Deno.test("mannWhitney() uses the normal approximation above 60 runs in all", () => {
  const a = Array.from({ length: 31 }, (_, i) => i);
  const b = Array.from({ length: 30 }, (_, i) => i + 31);
  const big = mannWhitney(a, b);
  assert.equal(big.exact, false);
  assert.ok(big.p < 1e-9, String(big.p));
  const mixed = mannWhitney(a, a.map((v) => v + 0.5));
  assert.ok(mixed.p > 0.5, String(mixed.p));
  assert.equal(mannWhitney([5, 5, 5], [5, 5, 5]).p, 1);
  assert.throws(() => mannWhitney([], [1]), RangeError);
});

Deno.test("mannWhitney() is exact for uneven samples up to 60 runs in all", () => {
  // 3 runs against 25, all below: 1 split in C(28, 3) = 3276 on each side.
  const r = mannWhitney([1, 2, 3], Array.from({ length: 25 }, (_, i) => 10 + i));
  assert.equal(r.exact, true);
  close(r.p, 2 / 3276, 1e-12);
  const even = mannWhitney(
    Array.from({ length: 30 }, (_, i) => i),
    Array.from({ length: 30 }, (_, i) => i + 0.5),
  );
  assert.equal(even.exact, true);
  assert.ok(even.p > 0.5);
});
