/**
 * Test fixtures: batch plans and job records as the job service leaves them, turned into
 * `batch_report.v1` reports by the real {@linkcode buildReport}.
 *
 * @module
 */

import type { JobRecord } from "../../src/server/jobs.ts";
import type { BatchPlan, PlannedJob } from "../../src/batch/spec.ts";
import { batchJob, buildReport } from "../../src/batch/summary.ts";
import type { BatchReport } from "../../src/contracts/batch.ts";
import type { RunSummary } from "../../src/contracts/run_summary.ts";

/** A `run_summary.v1` result with the numbers a report shows. */
export function runSummary(
  csv: string,
  mode: string,
  opsPerSecond: number,
  p99: number,
  migrations = 0,
): RunSummary {
  const p = { p50: p99 / 4, p90: p99 / 2, p99 };
  return {
    schema: "run_summary.v1",
    csv,
    mode,
    elapsed_seconds: 1000 / opsPerSecond,
    total_ops: 1000,
    ops_per_second: opsPerSecond,
    ops_by_type: { put: 600, get: 300, del: 100 },
    final_backend: mode === "fast-insert" ? "chaining" : "robinhood",
    migrations_triggered: migrations,
    compactions_triggered: 0,
    latency_ms: { overall: p, put: p, get: p, del: p },
    latency_sample: {
      reservoir_k_overall: 1000,
      reservoir_k_each: 1000,
      seen_overall: 8,
      every_n_ops: 128,
    },
    latency_histogram_preset: "default",
    final_stats: {
      backend: "robinhood",
      size: 500,
      capacity: 1024,
      load_factor: 0.49,
      max_group_len: 3,
      avg_probe_distance: 0.4,
      tombstones: 0,
      tombstone_ratio: 0,
      bytes_estimate: 16000,
    },
    bytes_per_entry: 32,
    ticks: 1,
    alerts: 0,
    metrics_file: null,
  };
}

/** A job as planned: `csv` resolves to `/in/<csv>` (without `./`). */
export function planned(
  name: string,
  kind: string,
  request: Record<string, unknown>,
): PlannedJob {
  const csv = String(request.csv).replace(/^\.\//, "");
  return { name, kind, request, inputs: { csv: `/in/${csv}` } };
}

let ids = 0;

/** A job's final record. */
export function record(
  kind: string,
  status: "completed" | "failed" | "cancelled",
  result: Record<string, unknown> | null,
  error: JobRecord["error"] = null,
): JobRecord {
  ids++;
  return {
    schema: "api.job.v1",
    id: `20261123T120000Z-${String(ids).padStart(6, "0")}`,
    kind,
    status,
    created_at: "2026-11-23T12:00:00.000Z",
    started_at: "2026-11-23T12:00:00.100Z",
    finished_at: "2026-11-23T12:00:01.100Z",
    duration_seconds: 1,
    request: {},
    cancel_requested: status === "cancelled",
    exit_code: status === "completed" ? 0 : 2,
    error,
    result,
    artifacts: result === null ? [] : ["result.json"],
  };
}

/** The report of `jobs` (each planned with its final record, or null: never submitted). */
export function reportOf(
  jobs: Array<[PlannedJob, JobRecord | null]>,
  title: string | null = null,
): BatchReport {
  const plan: BatchPlan = {
    spec: "bench/spec.toml",
    specDir: "/in",
    outDir: "/out",
    parallel: 1,
    title,
    jobs: jobs.map(([p]) => p),
  };
  return buildReport(plan, {
    jobs: jobs.map(([p, r]) => batchJob(p, r)),
    startedAt: "2026-11-23T12:00:00.000Z",
    finishedAt: "2026-11-23T12:00:09.000Z",
    durationSeconds: 9,
    interrupted: null,
  });
}
