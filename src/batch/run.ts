/**
 * Runs a validated batch on the job service (src/server/jobs.ts): one job service with its job
 * root in `<out_dir>/jobs`, the spec's directory as its input directory and `parallel` jobs at
 * once, so every job gets the service's child process, permissions, timeout, cancellation and
 * job directory. SIGINT and SIGTERM cancel the jobs and the batch waits for their processes to
 * end; the caller then ends with the signal.
 *
 * @module
 */

import { BadInputError, PolicyError } from "../errors.ts";
import { leaveSignalsToProgram, writeTogether } from "../io/atomic_write.ts";
import { joinPath } from "../io/path.ts";
import { log } from "../log/setup.ts";
import type { JobService } from "../server/jobs.ts";
import type { BatchJob, BatchReport } from "../contracts/batch.ts";
import { batchJob, buildReport } from "./summary.ts";
import { renderHtml, renderMarkdown } from "./report.ts";
import { type BatchPlan, REPORT_FILES, SPEC_HINT } from "./spec.ts";
import { JOB_KINDS } from "../server/job_kinds.ts";

/** A job's command line as the job service will run it (its directory not yet known). */
export interface PlannedCommand {
  name: string;
  kind: string;
  /** The request the job service gets. */
  request: Record<string, unknown>;
  /** `timeout_seconds` of the request; null: no limit. */
  timeout_seconds: number | null;
  /** `hashmap-cli` and its arguments; `<id>` stands for the job's id. */
  argv: string[];
}

/** What `--dry-run` shows: each job's command line. */
export function planCommands(plan: BatchPlan): PlannedCommand[] {
  const dir = joinPath(plan.outDir, "jobs/<id>");
  return plan.jobs.map((job) => ({
    name: job.name,
    kind: job.kind,
    request: job.request,
    timeout_seconds: (job.request.timeout_seconds as number | undefined) ?? null,
    argv: [
      "hashmap-cli",
      "--json",
      "--log-json",
      ...JOB_KINDS[job.kind]!.args(job.request, dir, job.inputs),
    ],
  }));
}

/** Throws PolicyError unless this process may spawn the job processes and write `outDir`. */
async function checkPermissions(outDir: string): Promise<void> {
  const { runnableExecutable } = await import("../server/jobs.ts");
  if (await runnableExecutable() === undefined) {
    throw new PolicyError(
      `batch runs each job as a child process and needs --allow-run=deno (or --allow-run=${Deno.execPath()})`,
      { hint: "Grant it, or check the spec without running it: batch --dry-run" },
    );
  }
  if ((await Deno.permissions.query({ name: "write", path: outDir })).state !== "granted") {
    throw new PolicyError(`batch needs --allow-write=${outDir} for its reports and jobs`, {
      hint: "Grant it, or choose another --out-dir",
    });
  }
}

/** Options of {@linkcode runBatch}. */
export interface RunBatchOptions {
  /** TOML config the jobs run with (the global `--config`). */
  config: string | undefined;
  /** Called as each job ends. */
  onJobEnd?: (job: BatchJob) => void;
}

/** Writes `batch.json`, `report.md` and `report.html`: all three, or none. */
function writeReports(report: BatchReport): Promise<string[]> {
  return writeTogether([
    [`${report.out_dir}/${REPORT_FILES.json}`, `${JSON.stringify(report, null, 2)}\n`],
    [`${report.out_dir}/${REPORT_FILES.markdown}`, renderMarkdown(report)],
    [`${report.out_dir}/${REPORT_FILES.html}`, renderHtml(report)],
  ]);
}

/** The report of a batch run and the files it was written to. */
export interface BatchRun {
  report: BatchReport;
  /** The report files written. */
  files: string[];
}

/**
 * Runs every job of `plan` and writes the reports. A signal cancels the jobs; the report then
 * says so in `interrupted` (and the caller ends the process with that signal).
 */
export async function runBatch(plan: BatchPlan, options: RunBatchOptions): Promise<BatchRun> {
  await checkPermissions(plan.outDir);
  const { JobService } = await import("../server/jobs.ts");
  const logger = log("batch");
  const started = performance.now();
  const startedWall = Date.now();
  // Set by the signal handlers, so read through an object: a local would stay narrowed to null.
  const stop: { signal: "SIGINT" | "SIGTERM" | null } = { signal: null };
  let service: JobService | undefined;
  const signals: Array<"SIGINT" | "SIGTERM"> = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => (): void => {
    if (stop.signal !== null) return; // already stopping; the kill grace bounds the wait
    stop.signal = signal;
    logger.warn("{signal} received: cancelling the batch's jobs", { signal });
    void service?.close();
  });
  signals.forEach((s, i) => Deno.addSignalListener(s, handlers[i]!));
  // The batch stops its jobs before it exits: an exit from the middle of a write would not.
  leaveSignalsToProgram();
  try {
    service = await JobService.open({
      root: joinPath(plan.outDir, "jobs"),
      inputDir: plan.specDir,
      maxJobs: plan.parallel,
      maxPending: plan.jobs.length,
      maxRecords: plan.jobs.length,
      // The report names every job's files: none may go while the batch runs (nor an earlier
      // batch's in the same directory, which only the user removes).
      maxRootBytes: Infinity,
      config: options.config,
      // Jobs run this program: the compiled binary itself, or the script this process runs.
      script: Deno.build.standalone ? null : Deno.mainModule,
    });
    // Summaries, not records: a thousand large results would otherwise wait here for the report.
    const ended: Array<Promise<BatchJob>> = [];
    try {
      for (const job of plan.jobs) {
        if (stop.signal !== null) {
          ended.push(Promise.resolve(batchJob(job, null)));
          continue;
        }
        let id: string;
        try {
          id = (await service.submit(job.kind, job.request)).id;
        } catch (err) {
          if (stop.signal !== null) { // refused because the service is closing
            ended.push(Promise.resolve(batchJob(job, null)));
            continue;
          }
          // An input removed since validation: the spec is no longer valid.
          if (err instanceof BadInputError) {
            throw new BadInputError(`job ${JSON.stringify(job.name)}: ${err.message}`, {
              hint: SPEC_HINT,
            });
          }
          throw err;
        }
        ended.push(
          service.settled(id).then((record) => {
            const done = batchJob(job, record!);
            options.onJobEnd?.(done);
            return done;
          }),
        );
      }
      if (stop.signal !== null) await service.close();
      const jobs = await Promise.all(ended);
      const report = buildReport(plan, {
        jobs,
        startedAt: new Date(startedWall).toISOString(),
        // Never before the start, though the wall clock was stepped back meanwhile.
        finishedAt: new Date(Math.max(startedWall, Date.now())).toISOString(),
        durationSeconds: (performance.now() - started) / 1000,
        interrupted: stop.signal,
      });
      return { report, files: await writeReports(report) };
    } finally {
      await service.close(); // never leaves a job process behind, whatever failed
    }
  } finally {
    signals.forEach((s, i) => Deno.removeSignalListener(s, handlers[i]!));
  }
}
