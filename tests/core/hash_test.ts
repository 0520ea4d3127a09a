import assert from "node:assert/strict";
import { fmix32, hashKey, hashNumber, hashString, indexFor } from "../../mod.ts";
import { hash32 } from "../../src/core/hash.ts";

// Values computed by the reference implementation in docs/hash.md (Python), not by this code.
const GOLDEN: Array<[string | number, number]> = [
  ["", 2872998923],
  ["a", 711464985],
  ["K0", 1556645425],
  ["K99999", 1079226262],
  ["hello world", 938747660],
  ["é", 4113253952],
  ["\u{1F600}", 3836905402],
  [0, 2462723854],
  [1, 920564995],
  [-1, 996586154],
  [2147483647, 1449607079],
  [-2147483648, 3172115818],
  [0.5, 776431250],
  [1e21, 1795359651],
  [2 ** 53, 2452855190],
];

Deno.test("hashKey() matches the documented reference values", () => {
  for (const [k, h] of GOLDEN) assert.equal(hashKey(k), h, `hashKey(${JSON.stringify(k)})`);
});

Deno.test("hash32() gives hashKey()'s bits as a signed int32", () => {
  for (const [k, h] of GOLDEN) {
    assert.equal(hash32(k) >>> 0, h);
    assert.equal(hash32(k), h | 0);
  }
  for (let i = 0; i < 10_000; i++) assert.equal(hash32(`key-${i}`) >>> 0, hashKey(`key-${i}`));
});

Deno.test("hashKey() is unsigned 32-bit and distinguishes strings from numbers", () => {
  for (const [k] of GOLDEN) {
    const h = hashKey(k);
    assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
  }
  assert.notEqual(hashKey("1"), hashKey(1));
  assert.equal(hashNumber(-0), hashNumber(0));
  assert.equal(hashString("K1"), hashKey("K1"));
});

Deno.test("fmix32() avalanches: one input bit flips about half the output bits", () => {
  let flips = 0;
  let trials = 0;
  for (let x = 1; x < 2000; x++) {
    const base = fmix32(Math.imul(x, 0x9e3779b1));
    for (let b = 0; b < 32; b++) {
      const d = (base ^ fmix32(Math.imul(x, 0x9e3779b1) ^ (1 << b))) >>> 0;
      let c = 0;
      for (let v = d; v; v &= v - 1) c++;
      flips += c;
      trials++;
    }
  }
  const mean = flips / trials;
  assert.ok(mean > 15.5 && mean < 16.5, `mean bits flipped ${mean}`);
});

Deno.test("hashString() spreads sequential keys evenly over the top bits", () => {
  const bits = 10;
  const counts = new Int32Array(1 << bits);
  const n = 100_000;
  for (let i = 0; i < n; i++) counts[indexFor(hashString(`K${i}`), bits)]!++;
  const expect = n / counts.length;
  let chi = 0;
  for (const c of counts) chi += (c - expect) ** 2 / expect;
  // 1023 degrees of freedom: mean 1023, sd ~45; 1250 is ~5 sd.
  assert.ok(chi < 1250, `chi-square ${chi.toFixed(1)}`);
});
