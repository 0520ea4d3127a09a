/**
 * The `ab-compare` report (`ab_compare.v1`): one workload replayed on a baseline and a candidate
 * map configuration, each side's median run summary, and their ratios. Written to `ab.json`,
 * printed by `--json`, shown by `serve --compare` (docs/ab_compare.md).
 *
 * @module
 */

import { z } from "zod";
import { exact } from "./exact.ts";
import { RunSummary } from "./run_summary.ts";

// Every schema has an explicit type (see exact.ts).
type Num = z.ZodNumber;
type NullNum = z.ZodNullable<Num>;
type NullStr = z.ZodNullable<z.ZodString>;

type OpsPerSecondSchema = z.ZodObject<
  { median: Num; min: Num; max: Num; runs: z.ZodArray<Num> },
  z.core.$strip
>;

const OpsPerSecond: OpsPerSecondSchema = exact<OpsPerSecondSchema>()(
  z.object({
    median: z.number().nonnegative().describe("ops/s of the median run (its summary is `summary`)"),
    min: z.number().nonnegative(),
    max: z.number().nonnegative(),
    runs: z.array(z.number().nonnegative()).min(1).describe("ops/s of every run, in run order"),
  }),
);

type AbSideSchema = z.ZodObject<
  {
    label: z.ZodString;
    mode: z.ZodEnum<{
      adaptive: "adaptive";
      "fast-insert": "fast-insert";
      "fast-lookup": "fast-lookup";
      "memory-tight": "memory-tight";
    }>;
    config: NullStr;
    env_overrides: z.ZodOptional<z.ZodArray<z.ZodString>>;
    ops_per_second: OpsPerSecondSchema;
    summary: typeof RunSummary;
  },
  z.core.$strip
>;

/**
 * The label pattern as published: reports and job requests validate against it for good (a
 * contract only widens). The command refuses more: `AB_LABEL_PATTERN` in src/replay/ab_compare.ts.
 */
export const PUBLISHED_LABEL_PATTERN: RegExp = /^[A-Za-z0-9._-]{1,64}$/;

/** One side of the comparison; both sides have this shape (the dashboard lines them up). */
export const AbSide: AbSideSchema = exact<AbSideSchema>()(
  z.object({
    label: z.string().regex(PUBLISHED_LABEL_PATTERN).describe(
      "names the side and its metrics file",
    ),
    mode: z.enum(["adaptive", "fast-insert", "fast-lookup", "memory-tight"]),
    config: z.string().nullable().describe("the TOML config file read, or null for none"),
    env_overrides: z.array(z.string()).optional().describe(
      "ADAPTIVE_*/WATCHDOG_* variables applied over the config, which they override; absent: none",
    ),
    ops_per_second: OpsPerSecond,
    // The median run's summary; its metrics_file is this side's metrics artifact.
    summary: RunSummary,
  }).meta({ id: "AbSide" }),
);

type OpRatiosSchema = z.ZodObject<
  { overall: NullNum; put: NullNum; get: NullNum; del: NullNum },
  z.core.$strip
>;

type ComparisonSchema = z.ZodObject<
  {
    ops_per_second_ratio: NullNum;
    p99_latency_ratio: OpRatiosSchema;
    bytes_per_entry_ratio: NullNum;
    final_backend: z.ZodObject<{ baseline: z.ZodString; candidate: z.ZodString }, z.core.$strip>;
    faster: NullStr;
    ranges_overlap: z.ZodBoolean;
    p_value: z.ZodOptional<NullNum>;
  },
  z.core.$strip
>;

const ratio = () => z.number().nonnegative().nullable();

/** Candidate against baseline. */
export const AbComparison: ComparisonSchema = exact<ComparisonSchema>()(
  z.object({
    ops_per_second_ratio: ratio().describe(
      "candidate / baseline median ops/s, 4 decimals; null when the baseline's is 0",
    ),
    p99_latency_ratio: z.object({
      overall: ratio(),
      put: ratio(),
      get: ratio(),
      del: ratio(),
    }).describe("candidate / baseline p99 per op (median runs); null when baseline is 0"),
    bytes_per_entry_ratio: ratio(),
    final_backend: z.object({ baseline: z.string(), candidate: z.string() }),
    faster: z.string().nullable().describe("label of the side with more ops/s; null on a tie"),
    ranges_overlap: z.boolean().describe(
      "the sides' min-max ops/s ranges overlap: the difference is within the run-to-run spread",
    ),
    // Optional: reports written before it was added lack it and still parse.
    p_value: z.number().min(0).max(1).nullable().optional().describe(
      "two-sided Mann-Whitney U p-value of the sides' runs' ops/s (null with --repeat 1); " +
        "below 0.05: a difference unlikely to be noise",
    ),
  }),
);

type ArtifactsSchema = z.ZodObject<
  {
    json: NullStr;
    markdown: NullStr;
    metrics: z.ZodObject<{ baseline: NullStr; candidate: NullStr }, z.core.$strip>;
  },
  z.core.$strip
>;

/** Files written (null: not written, `--no-artifacts`). */
export const AbArtifacts: ArtifactsSchema = exact<ArtifactsSchema>()(
  z.object({
    json: z.string().nullable(),
    markdown: z.string().nullable(),
    metrics: z.object({
      baseline: z.string().nullable(),
      candidate: z.string().nullable(),
    }).describe("each side's metrics.v1 NDJSON, from its median run"),
  }),
);

type AbCompareReportSchema = z.ZodObject<
  {
    schema: z.ZodLiteral<"ab_compare.v1">;
    csv: z.ZodString;
    ops: Num;
    repeat: Num;
    warmup_rows: Num;
    baseline: AbSideSchema;
    candidate: AbSideSchema;
    comparison: ComparisonSchema;
    artifacts: ArtifactsSchema;
  },
  z.core.$strip
>;

/** The `ab_compare.v1` report. */
export const AbCompareReport: AbCompareReportSchema = exact<AbCompareReportSchema>()(
  z.object({
    schema: z.literal("ab_compare.v1"),
    csv: z.string(),
    ops: z.number().int().nonnegative().describe("ops in the workload, replayed by every run"),
    repeat: z.number().int().positive().describe("runs per side, alternating baseline, candidate"),
    warmup_rows: z.number().int().nonnegative().describe(
      "rows replayed on each side before the measured runs, not measured (at most ops)",
    ),
    baseline: AbSide,
    candidate: AbSide,
    comparison: AbComparison,
    artifacts: AbArtifacts,
  }).meta({ id: "ab_compare.v1", title: "ab-compare report" }),
);

/** A parsed `ab_compare.v1` report. */
export type AbCompareReport = z.infer<typeof AbCompareReport>;
/** One side of a report. */
export type AbSide = z.infer<typeof AbSide>;
