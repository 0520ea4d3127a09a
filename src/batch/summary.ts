/**
 * Builds the `batch_report.v1` report from the job service's records: each job's outcome, the
 * brief of its result (numbers copied from the result, never recomputed), and the replays of
 * each workload ranked against the fastest.
 *
 * @module
 */

import type { JobRecord } from "../server/jobs.ts";
import type {
  BatchComparison,
  BatchJob,
  BatchJobSummary,
  BatchReport,
} from "../contracts/batch.ts";
import { RunSummary } from "../contracts/run_summary.ts";
import { WorkloadDna } from "../contracts/workload_dna.ts";
import { AbCompareReport } from "../contracts/ab_compare.ts";
import { ProfileReport } from "../contracts/profile.ts";
import type { BatchPlan, PlannedJob } from "./spec.ts";
import { round } from "../format.ts";

/** The brief of a completed job's result, or null when the result is not the kind's contract. */
export function summarizeResult(
  kind: string,
  result: Record<string, unknown> | null,
): BatchJobSummary | null {
  if (result === null) return null;
  if (kind === "run-csv" && result.status === "validated") {
    const { csv, rows, size_bytes } = result;
    if (typeof csv !== "string" || typeof rows !== "number" || typeof size_bytes !== "number") {
      return null;
    }
    return { type: "validation", csv, rows, size_bytes };
  }
  if (kind === "run-csv") {
    const r = RunSummary.safeParse(result);
    if (!r.success) return null;
    const s = r.data;
    return {
      type: "replay",
      csv: s.csv,
      mode: s.mode,
      total_ops: s.total_ops,
      elapsed_seconds: s.elapsed_seconds,
      ops_per_second: s.ops_per_second,
      p50_ms: s.latency_ms.overall.p50,
      p99_ms: s.latency_ms.overall.p99,
      final_backend: s.final_backend,
      migrations: s.migrations_triggered,
      compactions: s.compactions_triggered,
      bytes_per_entry: s.bytes_per_entry,
      alerts: s.alerts,
    };
  }
  if (kind === "workload-dna") {
    const r = WorkloadDna.safeParse(result);
    if (!r.success) return null;
    const d = r.data;
    return {
      type: "workload_dna",
      rows: d.rows,
      distinct_keys: d.keys.distinct,
      distinct_exact: d.keys.distinct_exact,
      skewed: d.skew.skewed,
      zipf_exponent: d.skew.zipf_exponent,
      adversarial: d.hash_pressure.adversarial,
      recommended_mode: d.recommendation.mode,
    };
  }
  if (kind === "ab-compare") {
    const r = AbCompareReport.safeParse(result);
    if (!r.success) return null;
    const a = r.data;
    const side = (s: typeof a.baseline) => ({
      label: s.label,
      mode: s.mode,
      ops_per_second: s.ops_per_second.median,
      p99_ms: s.summary.latency_ms.overall.p99,
    });
    return {
      type: "ab_compare",
      baseline: side(a.baseline),
      candidate: side(a.candidate),
      ops_per_second_ratio: a.comparison.ops_per_second_ratio,
      faster: a.comparison.faster,
      ranges_overlap: a.comparison.ranges_overlap,
      p_value: a.comparison.p_value ?? null,
    };
  }
  if (kind === "profile") {
    const r = ProfileReport.safeParse(result);
    if (!r.success) return null;
    const p = r.data;
    return {
      type: "profile",
      recommended_mode: p.recommended_mode,
      margin: p.margin,
      close: p.close,
      p_value: p.p_value ?? null,
      modes: p.modes.map((m) => ({
        mode: m.mode,
        ops_per_second: m.ops_per_second,
        p99_ms: m.p99_ms,
      })),
    };
  }
  return null;
}

/** The report's entry for one job, from its final record (null: never submitted). */
export function batchJob(planned: PlannedJob, record: JobRecord | null): BatchJob {
  if (record === null) {
    return {
      name: planned.name,
      kind: planned.kind,
      status: "cancelled",
      id: null,
      job_dir: null,
      request: planned.request,
      started_at: null,
      finished_at: null,
      duration_seconds: null,
      exit_code: null,
      error: null,
      summary: null,
      artifacts: [],
    };
  }
  const status = record.status === "completed" || record.status === "cancelled"
    ? record.status
    : "failed"; // a settled record is never pending or running
  const error = record.error === null ? null : {
    error: record.error.error,
    detail: record.error.detail,
    ...(record.error.hint === undefined ? {} : { hint: record.error.hint }),
  };
  return {
    name: planned.name,
    kind: planned.kind,
    status,
    id: record.id,
    job_dir: `jobs/${record.id}`,
    request: record.request,
    started_at: record.started_at,
    finished_at: record.finished_at,
    duration_seconds: record.duration_seconds,
    exit_code: record.exit_code,
    error,
    summary: status === "completed" ? summarizeResult(planned.kind, record.result) : null,
    artifacts: record.artifacts,
  };
}

/**
 * The completed replays of each workload (grouped by the real path of `csv`, named as the spec
 * first wrote it), fastest first, each with its ratio to the fastest.
 */
function compareReplays(plan: BatchPlan, jobs: readonly BatchJob[]): BatchComparison[] {
  const groups = new Map<string, BatchComparison>();
  plan.jobs.forEach((planned, i) => {
    const summary = jobs[i]?.summary;
    if (summary?.type !== "replay") return;
    const key = planned.inputs.csv ?? summary.csv;
    let group = groups.get(key);
    if (group === undefined) {
      group = { csv: String(planned.request.csv), rows: [] };
      groups.set(key, group);
    }
    group.rows.push({
      job: planned.name,
      mode: summary.mode,
      ops_per_second: summary.ops_per_second,
      ratio: 0,
    });
  });
  for (const group of groups.values()) {
    group.rows.sort((a, b) => b.ops_per_second - a.ops_per_second);
    const fastest = group.rows[0]!.ops_per_second;
    for (const row of group.rows) {
      row.ratio = fastest > 0 ? round(row.ops_per_second / fastest, 4) : 1;
    }
  }
  return [...groups.values()];
}

/** What a run of the batch produced, for {@linkcode buildReport}. */
export interface BatchOutcome {
  /** Each planned job as it ended ({@linkcode batchJob}), in spec order. */
  jobs: BatchJob[];
  /** ISO times of the batch. */
  startedAt: string;
  finishedAt: string;
  /** Wall time of the batch. */
  durationSeconds: number;
  /** The signal that stopped it, if one did. */
  interrupted: "SIGINT" | "SIGTERM" | null;
}

/** The `batch_report.v1` report of `plan`'s run. */
export function buildReport(plan: BatchPlan, outcome: BatchOutcome): BatchReport {
  const { jobs } = outcome;
  const tally = (status: BatchJob["status"]): number =>
    jobs.filter((j) => j.status === status).length;
  const completed = tally("completed");
  return {
    schema: "batch_report.v1",
    title: plan.title,
    spec: plan.spec,
    out_dir: plan.outDir,
    parallel: plan.parallel,
    started_at: outcome.startedAt,
    finished_at: outcome.finishedAt,
    duration_seconds: round(outcome.durationSeconds, 6),
    interrupted: outcome.interrupted,
    all_completed: completed === jobs.length && outcome.interrupted === null,
    counts: {
      jobs: jobs.length,
      completed,
      failed: tally("failed"),
      cancelled: tally("cancelled"),
    },
    jobs,
    comparisons: compareReplays(plan, jobs),
  };
}
