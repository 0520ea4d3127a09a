/**
 * The `batch` report (`batch_report.v1`): every job of a batch spec, its outcome and the
 * summary of its result, and the replays of each workload compared across modes. Written to
 * `batch.json` beside `report.md` and `report.html`, and the data of `batch --json`
 * (docs/batch.md). Change only by additions.
 *
 * @module
 */

import { z } from "zod";
import { exact } from "./exact.ts";

// Every schema has an explicit type (see exact.ts).
type Num = z.ZodNumber;
type Str = z.ZodString;
type Bool = z.ZodBoolean;
type NullNum = z.ZodNullable<Num>;
type NullStr = z.ZodNullable<Str>;
type Obj<T extends z.core.$ZodLooseShape> = z.ZodObject<T, z.core.$strip>;

const count = (): Num => z.number().int().nonnegative();
const rate = (): Num => z.number().nonnegative();

type ReplaySummarySchema = Obj<{
  type: z.ZodLiteral<"replay">;
  csv: Str;
  mode: Str;
  total_ops: Num;
  elapsed_seconds: Num;
  ops_per_second: Num;
  p50_ms: Num;
  p99_ms: Num;
  final_backend: Str;
  migrations: Num;
  compactions: Num;
  bytes_per_entry: Num;
  alerts: Num;
}>;

/** A `run-csv` job's `run_summary.v1`, in brief. */
export const BatchReplaySummary: ReplaySummarySchema = exact<ReplaySummarySchema>()(
  z.object({
    type: z.literal("replay"),
    csv: z.string().describe("the workload as the job read it (a real path)"),
    mode: z.string(),
    total_ops: count(),
    elapsed_seconds: rate(),
    ops_per_second: rate(),
    p50_ms: rate().describe("overall p50 latency"),
    p99_ms: rate().describe("overall p99 latency"),
    final_backend: z.string(),
    migrations: count(),
    compactions: count(),
    bytes_per_entry: rate(),
    alerts: count().describe("watchdog alerts raised"),
  }),
);

type ValidationSummarySchema = Obj<{
  type: z.ZodLiteral<"validation">;
  csv: Str;
  rows: Num;
  size_bytes: Num;
}>;

/** A `run-csv` job with `dry_run = true`: the workload was validated, not replayed. */
export const BatchValidationSummary: ValidationSummarySchema = exact<ValidationSummarySchema>()(
  z.object({
    type: z.literal("validation"),
    csv: z.string(),
    rows: count(),
    size_bytes: count(),
  }),
);

type DnaSummarySchema = Obj<{
  type: z.ZodLiteral<"workload_dna">;
  rows: Num;
  distinct_keys: Num;
  distinct_exact: Bool;
  skewed: Bool;
  zipf_exponent: NullNum;
  adversarial: Bool;
  recommended_mode: Str;
}>;

/** A `workload-dna` job's `workload_dna.v1`, in brief. */
export const BatchDnaSummary: DnaSummarySchema = exact<DnaSummarySchema>()(
  z.object({
    type: z.literal("workload_dna"),
    rows: count(),
    distinct_keys: count(),
    distinct_exact: z.boolean(),
    skewed: z.boolean(),
    zipf_exponent: z.number().nullable(),
    adversarial: z.boolean(),
    recommended_mode: z.string(),
  }),
);

type AbSideSchema = Obj<{ label: Str; mode: Str; ops_per_second: Num; p99_ms: Num }>;

const AbSide: AbSideSchema = exact<AbSideSchema>()(
  z.object({
    label: z.string(),
    mode: z.string(),
    ops_per_second: rate().describe("median of the side's runs"),
    p99_ms: rate().describe("overall p99 of the median run"),
  }),
);

type AbSummarySchema = Obj<{
  type: z.ZodLiteral<"ab_compare">;
  baseline: AbSideSchema;
  candidate: AbSideSchema;
  ops_per_second_ratio: NullNum;
  faster: NullStr;
  ranges_overlap: Bool;
  p_value: z.ZodOptional<NullNum>;
}>;

/** An `ab-compare` job's `ab_compare.v1`, in brief. */
export const BatchAbSummary: AbSummarySchema = exact<AbSummarySchema>()(
  z.object({
    type: z.literal("ab_compare"),
    baseline: AbSide,
    candidate: AbSide,
    ops_per_second_ratio: rate().nullable().describe("candidate / baseline"),
    faster: z.string().nullable().describe("label of the faster side; null on a tie"),
    ranges_overlap: z.boolean(),
    p_value: z.number().min(0).max(1).nullable().optional().describe(
      "the report's Mann-Whitney p-value (absent from reports written before it was added)",
    ),
  }),
);

type ProfileModeSchema = Obj<{ mode: Str; ops_per_second: Num; p99_ms: Num }>;
type ProfileSummarySchema = Obj<{
  type: z.ZodLiteral<"profile">;
  recommended_mode: Str;
  margin: Num;
  close: Bool;
  p_value: z.ZodOptional<NullNum>;
  modes: z.ZodArray<ProfileModeSchema>;
}>;

/** A `profile` job's `profile.v1`, in brief. */
export const BatchProfileSummary: ProfileSummarySchema = exact<ProfileSummarySchema>()(
  z.object({
    type: z.literal("profile"),
    recommended_mode: z.string(),
    margin: rate(),
    close: z.boolean(),
    p_value: z.number().min(0).max(1).nullable().optional().describe(
      "the report's Mann-Whitney p-value (absent from reports written before it was added)",
    ),
    modes: z.array(
      z.object({ mode: z.string(), ops_per_second: rate(), p99_ms: rate() }),
    ).describe("fastest first"),
  }),
);

type SummarySchema = z.ZodDiscriminatedUnion<
  [
    ReplaySummarySchema,
    ValidationSummarySchema,
    DnaSummarySchema,
    AbSummarySchema,
    ProfileSummarySchema,
  ],
  "type"
>;

/** The summary of a completed job's result, by `type`. */
export const BatchJobSummary: SummarySchema = exact<SummarySchema>()(
  z.discriminatedUnion("type", [
    BatchReplaySummary,
    BatchValidationSummary,
    BatchDnaSummary,
    BatchAbSummary,
    BatchProfileSummary,
  ]),
);

type JobErrorSchema = Obj<{ error: Str; detail: Str; hint: z.ZodOptional<Str> }>;

const JobError: JobErrorSchema = exact<JobErrorSchema>()(
  z.object({
    error: z.string().describe(
      "the job's CLI error envelope code, or Timeout | Interrupted | Internal",
    ),
    detail: z.string(),
    hint: z.string().optional(),
  }),
);

type BatchJobSchema = Obj<{
  name: Str;
  kind: Str;
  status: z.ZodEnum<{ completed: "completed"; failed: "failed"; cancelled: "cancelled" }>;
  id: NullStr;
  job_dir: NullStr;
  request: z.ZodRecord<z.ZodString, z.ZodUnknown>;
  started_at: NullStr;
  finished_at: NullStr;
  duration_seconds: NullNum;
  exit_code: NullNum;
  error: z.ZodNullable<JobErrorSchema>;
  summary: z.ZodNullable<SummarySchema>;
  artifacts: z.ZodArray<Str>;
}>;

/** One job of the batch. */
export const BatchJob: BatchJobSchema = exact<BatchJobSchema>()(
  z.object({
    name: z.string(),
    kind: z.string().describe("run-csv | workload-dna | ab-compare | profile"),
    status: z.enum(["completed", "failed", "cancelled"]),
    id: z.string().nullable().describe(
      "the job service's id; null when the batch was interrupted before the job was submitted",
    ),
    job_dir: z.string().nullable().describe(
      "the job's directory (request.json, status.json, logs.ndjson, result.json, artifacts), " +
        "relative to the report; null when the job was never submitted",
    ),
    request: z.record(z.string(), z.unknown()).describe("the request as the job service took it"),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    duration_seconds: rate().nullable(),
    exit_code: z.number().int().nullable(),
    error: JobError.nullable(),
    summary: BatchJobSummary.nullable().describe(
      "from the job's result.json; null when the job did not complete",
    ),
    artifacts: z.array(z.string()).describe("files in job_dir written by the command"),
  }),
);

type ComparisonRowSchema = Obj<{ job: Str; mode: Str; ops_per_second: Num; ratio: Num }>;
type ComparisonSchema = Obj<{ csv: Str; rows: z.ZodArray<ComparisonRowSchema> }>;

/** The completed replays of one workload, fastest first. */
export const BatchComparison: ComparisonSchema = exact<ComparisonSchema>()(
  z.object({
    csv: z.string().describe("the workload as the spec names it"),
    rows: z.array(
      z.object({
        job: z.string(),
        mode: z.string(),
        ops_per_second: rate(),
        ratio: rate().describe("ops_per_second / the fastest's, 4 decimals (1 for the fastest)"),
      }),
    ).min(1),
  }),
);

type CountsSchema = Obj<{ jobs: Num; completed: Num; failed: Num; cancelled: Num }>;

type BatchReportSchema = Obj<{
  schema: z.ZodLiteral<"batch_report.v1">;
  title: NullStr;
  spec: Str;
  out_dir: Str;
  parallel: Num;
  started_at: Str;
  finished_at: Str;
  duration_seconds: Num;
  interrupted: z.ZodNullable<z.ZodEnum<{ SIGINT: "SIGINT"; SIGTERM: "SIGTERM" }>>;
  all_completed: Bool;
  counts: CountsSchema;
  jobs: z.ZodArray<BatchJobSchema>;
  comparisons: z.ZodArray<ComparisonSchema>;
}>;

/** The `batch_report.v1` report. */
export const BatchReport: BatchReportSchema = exact<BatchReportSchema>()(
  z.object({
    schema: z.literal("batch_report.v1"),
    title: z.string().nullable(),
    spec: z.string().describe("the spec file as given"),
    out_dir: z.string(),
    parallel: z.number().int().positive(),
    started_at: z.string(),
    finished_at: z.string(),
    duration_seconds: rate(),
    interrupted: z.enum(["SIGINT", "SIGTERM"]).nullable().describe(
      "the signal that stopped the batch and cancelled its jobs, or null",
    ),
    // Not `ok`: the --json success line's own `ok` would be overwritten by it.
    all_completed: z.boolean().describe("every job completed and no signal stopped the batch"),
    counts: z.object({
      jobs: count(),
      completed: count(),
      failed: count(),
      cancelled: count(),
    }),
    jobs: z.array(BatchJob).describe("in spec order"),
    comparisons: z.array(BatchComparison).describe(
      "one per workload with completed run-csv replays, in order of first appearance",
    ),
  }).meta({ id: "batch_report.v1", title: "batch report" }),
);

/** A parsed `batch_report.v1` report. */
export type BatchReport = z.infer<typeof BatchReport>;
/** One job of a report. */
export type BatchJob = z.infer<typeof BatchJob>;
/** A job's result summary. */
export type BatchJobSummary = z.infer<typeof BatchJobSummary>;
/** One workload's replays compared. */
export type BatchComparison = z.infer<typeof BatchComparison>;
