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

Deno.test("mannWhitney() falls back to the normal approximation with ties or large samples", () => {
  const tied = mannWhitney([1, 2, 2, 3], [2, 3, 4, 5]);
  assert.equal(tied.exact, false);
  assert.ok(tied.p > 0.05 && tied.p < 1);
  const a = Array.from({ length: 30 }, (_, i) => i);
  const b = Array.from({ length: 30 }, (_, i) => i + 30);
  const big = mannWhitney(a, b);
  assert.equal(big.exact, false);
  assert.ok(big.p < 1e-9, String(big.p));
  assert.equal(mannWhitney([5, 5, 5], [5, 5, 5]).p, 1);
  assert.throws(() => mannWhitney([], [1]), RangeError);
});
