import assert from "node:assert/strict";
import {
  buildProfileReport,
  closeAdvice,
  formatProfileText,
  type ProfileRun,
  roundOrder,
} from "../../src/replay/profile.ts";
import { ProfileReport } from "../../src/contracts/profile.ts";
import type { Mode } from "../../src/core/factory.ts";

function runs(...ops: number[]): ProfileRun[] {
  return ops.map((o, i) => ({
    opsPerSecond: o,
    p99Ms: 0.001 * (i + 1),
    finalBackend: "robinhood",
    migrations: i,
    bytesPerEntry: 25 + i,
  }));
}

function report(m: Array<[Mode, ProfileRun[]]>) {
  return buildProfileReport({
    csv: "w.csv",
    sampleRows: 1000,
    wholeFile: false,
    repeat: m[0]?.[1].length ?? 1,
    runs: new Map(m),
  });
}

Deno.test("buildProfileReport() ranks modes by median run and reports that run's figures", () => {
  const r = report([
    ["adaptive", runs(100, 300, 200)],
    ["fast-lookup", runs(400, 390, 410)],
    ["fast-insert", runs(250, 260, 240)],
  ]);
  ProfileReport.parse(r);
  assert.deepEqual(r.modes.map((m) => m.mode), ["fast-lookup", "fast-insert", "adaptive"]);
  assert.equal(r.recommended_mode, "fast-lookup");
  const best = r.modes[0]!;
  assert.equal(best.ops_per_second, 400); // median of 400, 390, 410: the first run
  assert.equal(best.migrations, 0);
  assert.equal(best.p99_ms, 0.001);
  assert.equal(best.ops_per_second_min, 390);
  assert.equal(best.ops_per_second_max, 410);
  assert.equal(best.relative, 1);
  assert.equal(r.modes[1]!.relative, 0.625);
  assert.equal(r.margin, 1.6);
  assert.equal(r.close, false);
  const text = formatProfileText(r);
  assert.equal(r.p_value, 0.1, "3 runs each, all apart: the smallest p that 3 runs can give");
  assert.match(text, /Recommended: --mode fast-lookup \(1\.60x fast-insert, Mann-Whitney p=0\.1\)/);
  assert.doesNotMatch(text, /either will do/);
});

Deno.test("buildProfileReport() calls a runner-up close when within 5% or the best's spread", () => {
  const within5 = report([["adaptive", runs(103)], ["fast-lookup", runs(100)]]);
  assert.equal(within5.margin, 1.03);
  assert.equal(within5.close, true);
  assert.match(formatProfileText(within5), /fast-lookup is within the run-to-run spread/);
  // 1.2x apart, but the best's slowest run is below the runner-up's median.
  const spread = report([["adaptive", runs(120, 95, 130)], ["fast-lookup", runs(100, 100, 100)]]);
  assert.equal(spread.margin, 1.2);
  assert.equal(spread.close, true);
  const single = report([["memory-tight", runs(50)]]);
  assert.equal(single.margin, 1);
  assert.equal(single.close, false);
  assert.equal(single.p_value, null);
  assert.equal(within5.p_value, null, "one run each: nothing to test");
  assert.match(formatProfileText(within5), /\(1\.03x fast-lookup\)\n/);
  // Under 5% apart, but every run apart: a real difference too small to matter.
  const slight = report([
    ["adaptive", runs(104, 105, 106, 104.5, 105.5)],
    ["fast-lookup", runs(100, 101, 100.5, 101.5, 102)],
  ]);
  assert.equal(slight.close, true);
  assert.equal(slight.p_value, 0.007937); // 2 of the 252 arrangements are this extreme
  assert.match(formatProfileText(slight), /fast-lookup is clearly but only slightly slower/);
  // Close by the spread (one slow run of the best), yet clearly apart: no "either will do".
  const outlier = report([
    ["adaptive", runs(132, 60, 131, 133, 130, 134, 129, 135, 131, 132)],
    ["memory-tight", runs(100, 101, 99, 100, 102, 98, 100, 101, 99, 100)],
  ]);
  assert.equal(outlier.close, true);
  assert.ok(outlier.p_value! < 0.05 && outlier.margin > 1.05);
  assert.doesNotMatch(formatProfileText(outlier), /either will do/);
  assert.equal(closeAdvice(outlier), null, "the CLI's log line says the same");
  assert.match(closeAdvice(slight)!, /clearly but only slightly slower/);
  assert.match(closeAdvice(within5)!, /within the run-to-run spread/);
  // A report written before p_value existed still parses.
  const { p_value: _, ...older } = slight;
  assert.match(formatProfileText(ProfileReport.parse(older)), /\(1\.04x fast-lookup\)\n/);
  assert.throws(() => report([]), RangeError);
});

Deno.test("roundOrder() starts each round one mode later, so every mode takes every slot", () => {
  const modes = ["a", "b", "c", "d"];
  const rounds = [0, 1, 2, 3].map((r) => roundOrder(modes, r));
  assert.deepEqual(rounds[1], ["b", "c", "d", "a"]);
  for (let slot = 0; slot < modes.length; slot++) {
    assert.deepEqual(rounds.map((o) => o[slot]).sort(), modes);
  }
  assert.deepEqual(roundOrder(modes, 4), modes);
});
