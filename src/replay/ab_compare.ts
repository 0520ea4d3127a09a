/**
 * The pure part of `ab-compare`: labels, the median run, ratios, the `ab_compare.v1` report and
 * its text and Markdown renderings. The command (src/cli/commands/ab_compare.ts) runs the
 * replays and writes the files.
 *
 * @module
 */

import { BadInputError } from "../errors.ts";
import type { Mode } from "../core/factory.ts";
import type { RunSummary } from "../contracts/run_summary.ts";
import type { AbCompareReport, AbSide } from "../contracts/ab_compare.ts";
import { mannWhitney } from "./mann_whitney.ts";
import { micros, round, thousands, visible } from "../format.ts";

/**
 * A side's label: it names the side's metrics file, so file-name characters only, and not a dot
 * first (`..metrics.ndjson` is a hidden file, which a job's artifacts leave out).
 */
export const AB_LABEL_PATTERN: RegExp = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

/** The two roles, in run order. */
export const AB_ROLES: readonly ["baseline", "candidate"] = ["baseline", "candidate"];
/** `baseline` or `candidate`. */
export type AbRole = typeof AB_ROLES[number];

/** The ops of a latency breakdown, as in run_summary.v1's `latency_ms`. */
const LATENCY_OPS = ["overall", "put", "get", "del"] as const;

/**
 * Throws BadInputError unless both labels match {@linkcode AB_LABEL_PATTERN} and differ, also
 * in case: on a case-insensitive file system `A.metrics.ndjson` would replace `a.metrics.ndjson`.
 */
export function checkLabels(labels: Readonly<Record<AbRole, string>>): void {
  for (const role of AB_ROLES) {
    const label = labels[role];
    if (!AB_LABEL_PATTERN.test(label)) {
      throw new BadInputError(`--${role}-label ${JSON.stringify(label)} is not a valid label`, {
        hint:
          "Use 1-64 letters, digits, '.', '_' or '-', not starting with '.': the label names the side's files",
      });
    }
  }
  if (labels.baseline.toLowerCase() === labels.candidate.toLowerCase()) {
    throw new BadInputError(
      `--baseline-label ${JSON.stringify(labels.baseline)} and --candidate-label ${
        JSON.stringify(labels.candidate)
      } are the same label`,
      { hint: "Give the sides labels that differ in more than case: they name the metrics files" },
    );
  }
}

/**
 * Index of the median of `values` (the lower middle one for an even count: the slower of the
 * two middle runs, so an even `--repeat` does not flatter a side). -1 when empty.
 */
export function medianIndex(values: readonly number[]): number {
  if (values.length === 0) return -1;
  const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]! || a - b);
  return order[Math.floor((values.length - 1) / 2)]!;
}

/** `candidate / baseline` to 4 decimals; null when the baseline is 0 (or either not finite). */
export function ratio(candidate: number, baseline: number): number | null {
  if (!(baseline > 0) || !Number.isFinite(baseline) || !Number.isFinite(candidate)) return null;
  return round(candidate / baseline, 4);
}

/** One side's runs, in run order. */
export interface AbSideRuns {
  /** The side's label. */
  label: string;
  /** The side's map mode. */
  mode: Mode;
  /** The config file read for this side, or null. */
  config: string | null;
  /** The `ADAPTIVE_*`/`WATCHDOG_*` variables applied over it, if any. */
  envOverrides?: readonly string[];
  /** run_summary.v1 of every run, in run order (at least one). */
  summaries: readonly RunSummary[];
  /** This side's metrics artifact (the median run's ticks), or null when none is written. */
  metricsFile: string | null;
}

/**
 * Throws BadInputError when the runs did not all replay the same ops: the CSV changed while the
 * comparison ran, and its numbers would compare different workloads.
 */
function checkSameWorkload(csv: string, summaries: readonly RunSummary[]): void {
  const key = (s: RunSummary): string =>
    `${s.total_ops} ops (put ${s.ops_by_type.put}, get ${s.ops_by_type.get}, del ${s.ops_by_type.del})`;
  const first = summaries[0];
  if (first === undefined) return;
  const other = summaries.find((s) => key(s) !== key(first));
  if (other !== undefined) {
    throw new BadInputError(
      `The CSV '${csv}' changed during the comparison: one run replayed ${key(first)}, another ${
        key(other)
      }`,
      { hint: "Compare on a file that nothing writes to while ab-compare runs" },
    );
  }
}

function side(runs: AbSideRuns): AbSide {
  const values = runs.summaries.map((s) => s.ops_per_second);
  const median = runs.summaries[medianIndex(values)];
  if (median === undefined) throw new RangeError(`side '${runs.label}' has no runs`);
  return {
    label: runs.label,
    mode: runs.mode,
    config: runs.config,
    ...(runs.envOverrides?.length ? { env_overrides: [...runs.envOverrides] } : {}),
    // Before the summary: the dashboard lists the headline numbers first.
    ops_per_second: {
      median: median.ops_per_second,
      min: Math.min(...values),
      max: Math.max(...values),
      runs: values,
    },
    summary: { ...median, metrics_file: runs.metricsFile },
  };
}

/** What {@linkcode buildAbReport} needs. */
export interface AbReportInput {
  /** The workload replayed. */
  csv: string;
  /** Measured runs per side. */
  repeat: number;
  /** `--warmup-rows` (reported as at most the workload's rows). */
  warmupRows: number;
  /** The baseline's runs. */
  baseline: AbSideRuns;
  /** The candidate's runs. */
  candidate: AbSideRuns;
  /** The `ab.json` path, or null when not written. */
  json: string | null;
  /** The `ab.md` path, or null when not written. */
  markdown: string | null;
}

/** The `ab_compare.v1` report of two sides' runs (checked to have replayed the same ops). */
export function buildAbReport(input: AbReportInput): AbCompareReport {
  checkSameWorkload(input.csv, [...input.baseline.summaries, ...input.candidate.summaries]);
  const a = side(input.baseline);
  const b = side(input.candidate);
  const p99 = (op: typeof LATENCY_OPS[number]): number | null =>
    ratio(b.summary.latency_ms[op].p99, a.summary.latency_ms[op].p99);
  const oa = a.ops_per_second;
  const ob = b.ops_per_second;
  return {
    schema: "ab_compare.v1",
    csv: input.csv,
    ops: a.summary.total_ops,
    repeat: input.repeat,
    warmup_rows: Math.min(input.warmupRows, a.summary.total_ops),
    baseline: a,
    candidate: b,
    comparison: {
      ops_per_second_ratio: ratio(ob.median, oa.median),
      p99_latency_ratio: {
        overall: p99("overall"),
        put: p99("put"),
        get: p99("get"),
        del: p99("del"),
      },
      bytes_per_entry_ratio: ratio(b.summary.bytes_per_entry, a.summary.bytes_per_entry),
      final_backend: { baseline: a.summary.final_backend, candidate: b.summary.final_backend },
      faster: ob.median > oa.median ? b.label : oa.median > ob.median ? a.label : null,
      ranges_overlap: oa.min <= ob.max && ob.min <= oa.max,
      p_value: input.repeat > 1 ? Number(mannWhitney(oa.runs, ob.runs).p.toPrecision(4)) : null,
    },
    artifacts: {
      json: input.json,
      markdown: input.markdown,
      metrics: { baseline: input.baseline.metricsFile, candidate: input.candidate.metricsFile },
    },
  };
}

function times(r: number | null): string {
  return r === null ? "n/a" : `x${r.toFixed(3)}`;
}

/** The rows both renderings show: metric, baseline, candidate, candidate/baseline. */
function rows(r: AbCompareReport): Array<[string, string, string, string]> {
  const { baseline: a, candidate: b, comparison: c } = r;
  const both = (f: (s: AbSide) => string): [string, string] => [f(a), f(b)];
  const out: Array<[string, string, string, string]> = [
    ["mode", ...both((s) => s.mode), ""],
    [
      "config",
      ...both((s) => [s.config ?? "-", ...(s.env_overrides?.map((v) => `+ ${v}`) ?? [])].join(" ")),
      "",
    ],
    [
      "ops/s (median)",
      ...both((s) => thousands(s.ops_per_second.median)),
      times(c.ops_per_second_ratio),
    ],
  ];
  if (r.repeat > 1) {
    out.push([
      "ops/s (min-max)",
      ...both((s) => `${thousands(s.ops_per_second.min)}-${thousands(s.ops_per_second.max)}`),
      "",
    ]);
    if (c.p_value != null) out.push(["ops/s p-value (Mann-Whitney)", "", "", String(c.p_value)]);
  }
  for (const op of LATENCY_OPS) {
    out.push([
      `${op} p50 / p99 µs`,
      ...both((s) =>
        `${micros(s.summary.latency_ms[op].p50)} / ${micros(s.summary.latency_ms[op].p99)}`
      ),
      times(c.p99_latency_ratio[op]),
    ]);
  }
  out.push(
    ["final backend", ...both((s) => s.summary.final_backend), ""],
    ["migrations", ...both((s) => String(s.summary.migrations_triggered)), ""],
    [
      "bytes/entry",
      ...both((s) => s.summary.bytes_per_entry.toFixed(1)),
      times(c.bytes_per_entry_ratio),
    ],
    ["watchdog alerts", ...both((s) => String(s.summary.alerts)), ""],
  );
  return out;
}

/** Below this p-value a difference is called clear (the usual 5%). */
export const SIGNIFICANCE = 0.05;

function verdict(r: AbCompareReport): string {
  const c = r.comparison;
  if (c.faster === null) return "neither side is faster";
  if (r.repeat === 1) {
    return `${c.faster} is faster (one run per side: use --repeat to see the spread)`;
  }
  const p = c.p_value ?? null; // absent from reports written before it was added
  const test = p === null ? "" : `, Mann-Whitney p=${p}`;
  if (p !== null && p < SIGNIFICANCE) return `${c.faster} is faster (a clear difference${test})`;
  if (c.ranges_overlap) {
    return `${c.faster} is faster (within the run-to-run spread: not a clear difference${test})`;
  }
  if (p === null) return `${c.faster} is faster`;
  // Apart but not significant: too few runs for the test to tell (3 per side give p >= 0.1).
  return `${c.faster} is faster (ranges apart, but too few runs to be sure${test}: use --repeat 4 or more)`;
}

function runsLine(r: AbCompareReport): string {
  const warm = r.warmup_rows > 0 ? `, after ${r.warmup_rows} warm-up rows per side` : "";
  const per = r.repeat === 1 ? "1 run per side" : `${r.repeat} runs per side, alternating`;
  return `${r.ops} ops, ${per}${warm}`;
}

/** The text printed without `--json`: a table, the ratios, the verdict, the files written. */
export function formatAbText(r: AbCompareReport): string {
  const a = r.baseline.label;
  const b = r.candidate.label;
  const table: Array<[string, string, string, string]> = [
    ["", a, b, `${b}/${a}`],
    ...rows(r),
  ];
  const width = [0, 1, 2, 3].map((i) => Math.max(...table.map((row) => row[i]!.length)));
  const lines = [`ab-compare: ${r.csv}: ${runsLine(r)}`];
  for (const row of table) {
    lines.push(
      row.map((cell, i) => (i === 0 ? cell.padEnd(width[i]!) : cell.padStart(width[i]!)))
        .join("  ").trimEnd(),
    );
  }
  lines.push(`${verdict(r)}: ${b}/${a} ops/s ${times(r.comparison.ops_per_second_ratio)}`);
  const files = [
    r.artifacts.json,
    r.artifacts.markdown,
    r.artifacts.metrics.baseline,
    r.artifacts.metrics.candidate,
  ].filter((f) => f !== null);
  lines.push(
    files.length === 0 ? "artifacts: none (--no-artifacts)" : `artifacts: ${files.join(", ")}`,
  );
  return `${lines.join("\n")}\n`;
}

/** Escapes a table cell's text for Markdown. */
function cell(text: string): string {
  return visible(text).replace(/[\\|`*_~[\]<>]/g, (c) => `\\${c}`);
}

/** `ab.md`: the same table in Markdown, for a pull request or a notebook. */
export function formatAbMarkdown(r: AbCompareReport): string {
  const a = cell(r.baseline.label);
  const b = cell(r.candidate.label);
  const lines = [
    `# A/B comparison: ${a} vs ${b}`,
    "",
    `Workload ${cell(r.csv)}: ${runsLine(r)}.`,
    "",
    `| metric | ${a} | ${b} | ${b}/${a} |`,
    "| --- | ---: | ---: | ---: |",
    ...rows(r).map((row) => `| ${row.map(cell).join(" | ")} |`),
    "",
    `**${cell(verdict(r))}**: ${b}/${a} ops/s ${times(r.comparison.ops_per_second_ratio)}.`,
    "",
    "Timings on a busy machine are noisy: compare with `--repeat` and read the min-max spread.",
  ];
  return `${lines.join("\n")}\n`;
}
