/**
 * JSON bodies of the metrics server (`/api/*`, health routes). Every body carries a `schema`
 * name so a client can tell what it holds; ticks themselves are `metrics.v1`.
 *
 * @module
 */

import { z } from "zod";
import { KeyHeatmap, MetricsTick, TickEvent } from "./metrics.ts";
import { MODES } from "../core/factory.ts";
import { AB_LABEL_PATTERN } from "../replay/ab_compare.ts";
import { PUBLISHED_LABEL_PATTERN } from "./ab_compare.ts";
import { ProbeTraceSchema } from "./probe_trace.ts";
import { SnapshotInspectionSchema } from "./snapshot.ts";

const bucket = z.object({
  le: z.union([z.number().positive(), z.literal("+Inf")]),
  count: z.number().int().nonnegative(),
});

/** Error body of every failed request (4xx/5xx). */
export const ApiError = z.object({
  schema: z.literal("api.error.v1"),
  error: z.string().describe(
    "BadInput | Unauthorized | NotFound | MethodNotAllowed | Conflict | UnsupportedMediaType | NotReady | Busy | RateLimited | TooLarge | Policy | IO | Internal",
  ),
  detail: z.string(),
  hint: z.string().optional(),
}).meta({ id: "api.error.v1" });

/** `/healthz`. */
export const ApiHealth = z.object({
  schema: z.literal("api.health.v1"),
  status: z.literal("ok"),
}).meta({ id: "api.health.v1" });

/** `/readyz`: ready once a tick has been received. */
export const ApiReady = z.object({
  schema: z.literal("api.ready.v1"),
  ready: z.boolean(),
  ticks: z.number().int().nonnegative(),
}).meta({ id: "api.ready.v1" });

/** `/api/version`. */
export const ApiVersion = z.object({
  schema: z.literal("api.version.v1"),
  name: z.string(),
  version: z.string(),
  deno: z.string(),
  metrics_schema: z.literal("metrics.v1"),
}).meta({ id: "api.version.v1" });

/** `/api/metrics/history`. */
export const ApiHistory = z.object({
  schema: z.literal("api.history.v1"),
  limit: z.number().int().positive(),
  count: z.number().int().nonnegative(),
  ticks: z.array(MetricsTick),
}).meta({ id: "api.history.v1" });

/** `/api/metrics/histogram/latency`. */
export const ApiLatencyHistogram = z.object({
  schema: z.literal("api.latency_histogram.v1"),
  t: z.number().nonnegative().nullable(),
  operations: z.record(z.string(), z.array(bucket)),
}).meta({ id: "api.latency_histogram.v1" });

/** `/api/metrics/histogram/probe`. */
export const ApiProbeHistogram = z.object({
  schema: z.literal("api.probe_histogram.v1"),
  t: z.number().nonnegative().nullable(),
  backend: z.string().nullable(),
  buckets: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])),
}).meta({ id: "api.probe_histogram.v1" });

/** `/api/metrics/heatmap`. */
export const ApiHeatmap = z.object({
  schema: z.literal("api.heatmap.v1"),
  t: z.number().nonnegative().nullable(),
  backend: z.string().nullable(),
  heatmap: KeyHeatmap.nullable(),
}).meta({ id: "api.heatmap.v1" });

/** One event kept by the server, numbered in arrival order. */
export const ApiEvent = TickEvent.extend({
  seq: z.number().int().positive(),
  tick_ops: z.number().int().nonnegative(),
});

/** `/api/events`. */
export const ApiEvents = z.object({
  schema: z.literal("api.events.v1"),
  limit: z.number().int().positive(),
  events: z.array(ApiEvent),
}).meta({ id: "api.events.v1" });

/** `/api/compare`: the A/B comparison given to `serve --compare`. */
export const ApiCompare = z.object({
  schema: z.literal("api.compare.v1"),
  compare: z.unknown(),
}).meta({ id: "api.compare.v1" });

/**
 * `/api/probe`: a probe trace (`probe_trace.v1`) on the live or a loaded map. First published as
 * an object with `schema` and `backend`; every trace served was a whole `probe_trace.v1`, which
 * the schema now says (tests/contracts/compat_test.ts, `NARROWED`).
 */
export const ApiProbe = z.object({
  schema: z.literal("api.probe.v1"),
  source: z.string().describe("live | snapshot:<name>"),
  trace: ProbeTraceSchema,
}).meta({ id: "api.probe.v1" });

/**
 * `/api/snapshot`: the inspection (`snapshot_inspect.v1`, `path` being the snapshot's name) of a
 * snapshot in `ADHASH_SNAPSHOT_DIR`. First published as any value; every inspection served was a
 * `snapshot_inspect.v1`, which the schema now says (tests/contracts/compat_test.ts, `NARROWED`).
 */
export const ApiSnapshot = z.object({
  schema: z.literal("api.snapshot.v1"),
  name: z.string(),
  inspection: SnapshotInspectionSchema,
}).meta({ id: "api.snapshot.v1" });

/** `/api/snapshots`: snapshot files available in `ADHASH_SNAPSHOT_DIR`. */
export const ApiSnapshotList = z.object({
  schema: z.literal("api.snapshot_list.v1"),
  names: z.array(z.string()).describe("the first 1000 snapshot files, in name order"),
  total: z.number().int().nonnegative().optional().describe(
    "snapshot files in the directory; past 1000, names holds only the first 1000",
  ),
}).meta({ id: "api.snapshot_list.v1" });

/** First event of `/api/stream`, before any tick. */
export const ApiStreamHello = z.object({
  schema: z.literal("api.stream_hello.v1"),
  ticks: z.number().int().nonnegative(),
  history_limit: z.number().int().positive(),
}).meta({ id: "api.stream_hello.v1" });

const mode = z.enum(MODES as [string, ...string[]]);
/**
 * A row count: any safe integer, as first published, taken as at most 2^40 (the CLI's bound,
 * more rows than any workload has), so that the job's command line is one the CLI accepts.
 */
const rows = () =>
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).transform((n) => Math.min(n, 2 ** 40));
const limits = {
  csv_max_rows: rows().optional(),
  csv_max_bytes: z.number().int().min(0).optional(),
  timeout_seconds: z.number().positive().max(604_800).optional().describe(
    "fail the job (Timeout) when it runs longer; default: no limit",
  ),
};
const csv = z.string().min(1).describe("workload CSV, relative to the service's input directory");

/** `POST /api/jobs/run-csv`: a replay run by the job service (paths relative to its input dir). */
export const ApiJobRunCsvRequest = z.strictObject({
  csv,
  mode: mode.optional().describe("map mode (default adaptive)"),
  dry_run: z.boolean().optional().describe("validate the CSV only"),
  metrics: z.boolean().optional().describe("write the artifact metrics.ndjson (default true)"),
  snapshot: z.boolean().optional().describe("write the artifact snapshot.bin (default false)"),
  compress: z.boolean().optional().describe("gzip the snapshot (snapshot.bin.gz)"),
  snapshot_in: z.string().min(1).optional().describe("start from this snapshot (input dir)"),
  tick_every: z.number().int().min(1).max(1_000_000_000).optional(),
  latency_buckets: z.enum(["default", "micro"]).optional(),
  ...limits,
}).meta({ id: "api.job_run_csv_request.v1" });

/** `POST /api/jobs/workload-dna`: a workload analysis run by the job service. */
export const ApiJobWorkloadDnaRequest = z.strictObject({
  csv,
  top_keys: z.number().int().min(0).max(10_000).optional(),
  max_tracked_keys: z.number().int().min(1).max(10_000_000).optional(),
  ...limits,
}).meta({ id: "api.job_workload_dna_request.v1" });

/** `POST /api/jobs/profile`: every mode replayed on a sample of the workload, by the job service. */
export const ApiJobProfileRequest = z.strictObject({
  csv,
  sample_rows: rows().optional().describe(
    "rows per run (0: all; default 200000)",
  ),
  repeat: z.number().int().min(1).max(100).optional().describe(
    "measured runs per mode (default 5)",
  ),
  ...limits,
}).meta({ id: "api.job_profile_request.v1" });

const label = z.string().regex(PUBLISHED_LABEL_PATTERN);

/** `POST /api/jobs/ab-compare`: an A/B comparison run by the job service. */
export const ApiJobAbCompareRequest = z.strictObject({
  csv,
  baseline_mode: mode.optional().describe("default adaptive"),
  candidate_mode: mode.optional().describe("default fast-lookup"),
  baseline_label: label.optional(),
  candidate_label: label.optional(),
  baseline_config: z.string().min(1).optional().describe("TOML config (input dir)"),
  candidate_config: z.string().min(1).optional().describe("TOML config (input dir)"),
  repeat: z.number().int().min(1).max(100).optional(),
  warmup_rows: rows().optional(),
  ...limits,
}).refine(
  // The labels name the sides' files, so they must differ in more than case (as the CLI checks).
  (r) =>
    (r.baseline_label ?? "baseline").toLowerCase() !==
      (r.candidate_label ?? "candidate").toLowerCase(),
  { message: "baseline_label and candidate_label must differ in more than case" },
).refine(
  // A label's metrics file would be a hidden one, which the job's artifacts leave out. (The
  // pattern above cannot say it: the published schema's may only widen.)
  (r) =>
    [r.baseline_label, r.candidate_label].every((l) => l === undefined || AB_LABEL_PATTERN.test(l)),
  { message: "baseline_label and candidate_label may not start with '.'" },
).meta({
  id: "api.job_ab_compare_request.v1",
  // JSON Schema cannot say it, so the schema says it in words.
  description: "baseline_label and candidate_label (default baseline, candidate) must differ " +
    "in more than case, and neither may start with '.'",
});

/** Why a job failed: the CLI's error envelope, or Timeout / Interrupted / Internal. */
export const ApiJobError = z.object({
  error: z.string().describe(
    "BadInput | Invariant | Policy | IO | Internal | Timeout | Interrupted",
  ),
  detail: z.string(),
  hint: z.string().optional(),
});

/** A job of the job service (`/api/jobs/{id}`, and its `status.json`). */
export const ApiJob = z.object({
  schema: z.literal("api.job.v1"),
  id: z.string(),
  kind: z.string().describe("run-csv | workload-dna | ab-compare | profile"),
  status: z.enum(["pending", "running", "completed", "failed", "cancelled"]),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  duration_seconds: z.number().nonnegative().nullable().describe("running time, once finished"),
  request: z.record(z.string(), z.unknown()),
  cancel_requested: z.boolean(),
  exit_code: z.number().int().nullable(),
  error: ApiJobError.nullable(),
  result: z.record(z.string(), z.unknown()).nullable().describe(
    "the command's --json result (run_summary.v1, workload_dna.v1, ab_compare.v1, profile.v1) " +
      "once completed",
  ),
  artifacts: z.array(z.string()).describe("files under /api/jobs/{id}/artifacts/"),
}).meta({ id: "api.job.v1" });

/** `GET /api/jobs`: jobs, newest first. */
export const ApiJobList = z.object({
  schema: z.literal("api.job_list.v1"),
  count: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
  pending: z.number().int().nonnegative(),
  max_jobs: z.number().int().positive(),
  jobs: z.array(ApiJob),
}).meta({ id: "api.job_list.v1" });

/** Every server body schema by name, for schema generation (`schemas/<name>.json`). */
export const API_SCHEMAS: Readonly<Record<string, z.ZodType>> = Object.freeze({
  "api.error.v1": ApiError,
  "api.health.v1": ApiHealth,
  "api.ready.v1": ApiReady,
  "api.version.v1": ApiVersion,
  "api.history.v1": ApiHistory,
  "api.latency_histogram.v1": ApiLatencyHistogram,
  "api.probe_histogram.v1": ApiProbeHistogram,
  "api.heatmap.v1": ApiHeatmap,
  "api.events.v1": ApiEvents,
  "api.compare.v1": ApiCompare,
  "api.probe.v1": ApiProbe,
  "api.snapshot.v1": ApiSnapshot,
  "api.snapshot_list.v1": ApiSnapshotList,
  "api.stream_hello.v1": ApiStreamHello,
  "api.job.v1": ApiJob,
  "api.job_list.v1": ApiJobList,
});

/** A `POST /api/jobs/run-csv` body. */
export type RunCsvRequest = z.infer<typeof ApiJobRunCsvRequest>;
/** A `POST /api/jobs/workload-dna` body. */
export type WorkloadDnaRequest = z.infer<typeof ApiJobWorkloadDnaRequest>;
/** A `POST /api/jobs/ab-compare` body. */
export type AbCompareRequest = z.infer<typeof ApiJobAbCompareRequest>;
/** A validated `POST /api/jobs/profile` body. */
export type ProfileRequest = z.infer<typeof ApiJobProfileRequest>;

/** An error body. */
export type ApiError = z.infer<typeof ApiError>;
