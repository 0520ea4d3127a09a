/**
 * The pure part of `profile`: from each mode's runs on a workload sample to the `profile.v1`
 * report and its text. The command (src/cli/commands/profile.ts) reads the sample and runs the
 * replays.
 *
 * @module
 */

import type { Mode } from "../core/factory.ts";
import type { ProfileReport } from "../contracts/profile.ts";
import { medianIndex, ratio, SIGNIFICANCE } from "./ab_compare.ts";
import { mannWhitney } from "./mann_whitney.ts";
import { micros, round, thousands } from "../format.ts";

/** What one measured run of one mode gave. */
export interface ProfileRun {
  opsPerSecond: number;
  p99Ms: number;
  finalBackend: string;
  migrations: number;
  bytesPerEntry: number;
}

/**
 * The order of the modes in measured round `round`: each round starts one mode later, so that
 * a run's slot in the round (the first one pays for the previous round's garbage, say) does not
 * favour the same mode every time. Found by review: with a fixed order the mode run first came
 * out 8-12% slower even when every mode built the same map.
 */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  return items.map((_, i) => items[(round + i) % items.length]!);
}

/** Below this margin the runner-up is reported as about as good. */
export const CLOSE_MARGIN = 1.05;

/** What {@linkcode buildProfileReport} needs. */
export interface ProfileInput {
  csv: string;
  sampleRows: number;
  wholeFile: boolean;
  repeat: number;
  /** Every mode's measured runs, in run order (at least one each). */
  runs: ReadonlyMap<Mode, readonly ProfileRun[]>;
}

/** The report: modes fastest first, the fastest recommended. */
export function buildProfileReport(input: ProfileInput): ProfileReport {
  const measured = [...input.runs].map(([mode, runs]) => {
    const ops = runs.map((r) => r.opsPerSecond);
    const median = runs[medianIndex(ops)]!;
    return { mode, ops, median, min: Math.min(...ops), max: Math.max(...ops) };
  });
  if (measured.length === 0) throw new RangeError("buildProfileReport() needs at least one mode");
  measured.sort((a, b) => b.median.opsPerSecond - a.median.opsPerSecond);
  const best = measured[0]!;
  const second = measured[1];
  const margin = second === undefined
    ? 1
    : ratio(best.median.opsPerSecond, second.median.opsPerSecond) ?? 1;
  return {
    schema: "profile.v1",
    csv: input.csv,
    sample_rows: input.sampleRows,
    whole_file: input.wholeFile,
    repeat: input.repeat,
    modes: measured.map((m) => ({
      mode: m.mode,
      ops_per_second: Math.round(m.median.opsPerSecond),
      ops_per_second_min: Math.round(m.min),
      ops_per_second_max: Math.round(m.max),
      relative: ratio(m.median.opsPerSecond, best.median.opsPerSecond) ?? 0,
      p99_ms: m.median.p99Ms,
      final_backend: m.median.finalBackend,
      migrations: m.median.migrations,
      bytes_per_entry: round(m.median.bytesPerEntry, 2),
    })),
    recommended_mode: best.mode,
    margin,
    close: second !== undefined &&
      (margin < CLOSE_MARGIN || second.median.opsPerSecond >= best.min),
    p_value: second === undefined || input.repeat < 2
      ? null
      : Number(mannWhitney(best.ops, second.ops).p.toPrecision(4)),
  };
}

/** The report as a table and a recommendation. */
export function formatProfileText(r: ProfileReport): string {
  const sample = r.whole_file
    ? `all ${thousands(r.sample_rows)} rows`
    : `the first ${thousands(r.sample_rows)} rows`;
  const head = [
    "mode".padEnd(13),
    "ops/s".padStart(11),
    "min-max ops/s".padStart(21),
    "rel".padStart(6),
    "p99 µs".padStart(9),
    "final backend".padStart(14),
    "migrations".padStart(11),
    "bytes/entry".padStart(12),
  ].join(" ");
  const lines = [
    `Profile of ${r.csv}: ${sample}, ${r.repeat} measured run${r.repeat === 1 ? "" : "s"} per mode`,
    "",
    head,
    "-".repeat(head.length),
  ];
  for (const m of r.modes) {
    lines.push([
      m.mode.padEnd(13),
      thousands(m.ops_per_second).padStart(11),
      `${thousands(m.ops_per_second_min)}-${thousands(m.ops_per_second_max)}`.padStart(21),
      m.relative.toFixed(2).padStart(6),
      micros(m.p99_ms).padStart(9),
      m.final_backend.padStart(14),
      String(m.migrations).padStart(11),
      m.bytes_per_entry.toFixed(1).padStart(12),
    ].join(" "));
  }
  lines.push("");
  const runnerUp = r.modes[1];
  lines.push(
    `Recommended: --mode ${r.recommended_mode}` +
      (runnerUp === undefined
        ? ""
        : ` (${r.margin.toFixed(2)}x ${runnerUp.mode}${
          r.p_value == null ? "" : `, Mann-Whitney p=${r.p_value}`
        })`),
  );
  const advice = closeAdvice(r);
  if (advice !== null) lines.push(advice);
  return `${lines.join("\n")}\n`;
}

/**
 * What to say of a `close` runner-up, or null: "either will do" when the difference is within
 * the noise, or clear (p < 0.05) but under 5%. A clear difference that is close only by the
 * spread gets nothing: the recommendation line gives its p.
 */
export function closeAdvice(r: ProfileReport): string | null {
  const runnerUp = r.modes[1];
  if (!r.close || runnerUp === undefined) return null;
  if (r.p_value == null || r.p_value >= SIGNIFICANCE) {
    return `${runnerUp.mode} is within the run-to-run spread: either will do; more --repeat or a ` +
      "larger --sample-rows separates them";
  }
  if (r.margin < CLOSE_MARGIN) {
    return `${runnerUp.mode} is clearly but only slightly slower: either will do`;
  }
  return null;
}
