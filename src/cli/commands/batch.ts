/**
 * `batch`: runs the jobs of a TOML spec (workloads x modes, analyses, A/B comparisons) on the
 * job service and writes one report: `batch.json` (`batch_report.v1`), `report.md` and
 * `report.html` (docs/batch.md). It succeeds only when every job completed.
 *
 * @module
 */

import type { Command } from "../command.ts";
import { AdhashError, type ErrorCode, EXIT_CODES } from "../../errors.ts";
import { emitSuccess, globalOptions, intArg, writeStderr } from "../program.ts";
import { log, shutdownLogging } from "../../log/setup.ts";
import type { BatchReport } from "../../contracts/batch.ts";

interface BatchFlags {
  spec: string;
  outDir?: string;
  parallel?: number;
  dryRun?: boolean;
}

/**
 * The error a batch with failed jobs ends with: the first failed job's own envelope code (a
 * timeout is Policy, a limit the spec set), naming every failed job.
 */
export function batchFailure(report: BatchReport, files: readonly string[]): AdhashError {
  const failed = report.jobs.filter((j) => j.status !== "completed");
  const first = failed[0]?.error?.error;
  const code: ErrorCode = first !== undefined && Object.hasOwn(EXIT_CODES, first)
    ? first as ErrorCode
    : first === "Timeout"
    ? "Policy"
    : "Internal";
  const shown = failed.slice(0, 5).map((j) =>
    `${j.name} (${j.error === null ? j.status : `${j.error.error}: ${j.error.detail}`})`
  );
  if (failed.length > shown.length) shown.push(`and ${failed.length - shown.length} more`);
  return new AdhashError(
    code,
    `${failed.length} of ${report.counts.jobs} batch jobs did not complete: ${shown.join(", ")}`,
    {
      hint: `Report: ${files.find((f) => f.endsWith(".md")) ?? report.out_dir}; the exit code ` +
        "is the first failed job's (docs/batch.md)",
    },
  );
}

/** Ends the process with `signal`, as an interrupted command does (exit 130 or 143). */
async function endWithSignal(signal: "SIGINT" | "SIGTERM"): Promise<never> {
  await shutdownLogging().catch(() => {});
  // Windows signals no process but by killing it: the exit code says what happened instead.
  if (Deno.build.os === "windows") Deno.exit(signal === "SIGINT" ? 130 : 143);
  // The batch's own listeners are gone, so the signal now has its default effect.
  Deno.kill(Deno.pid, signal);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  throw new AdhashError("Internal", `Interrupted by ${signal}, which did not end the process`);
}

/** Registers `batch`. */
export function registerBatchCommand(program: Command): void {
  program.command("batch")
    .description("Run a TOML spec of jobs (workloads x modes) and write one Markdown/HTML report")
    .requiredOption("--spec <path>", "batch spec (TOML, docs/batch.md)")
    .option("--out-dir <dir>", "reports and job directories (overrides the spec's out_dir)")
    .option("--parallel <n>", "jobs running at once (default: the spec's, else 1)", intArg(1, 64))
    .option("--dry-run", "validate the spec and print each job's command line; run nothing")
    .action(async (flags: BatchFlags, cmd: Command) => {
      const [{ loadBatchSpec }, { planCommands, runBatch }, report] = await Promise.all([
        import("../../batch/spec.ts"),
        import("../../batch/run.ts"),
        import("../../batch/report.ts"),
      ]);
      const plan = await loadBatchSpec(flags.spec, {
        outDir: flags.outDir,
        parallel: flags.parallel,
        config: globalOptions(cmd).config,
      });
      if (flags.dryRun) {
        const jobs = planCommands(plan);
        emitSuccess(
          cmd,
          { dry_run: true, spec: plan.spec, out_dir: plan.outDir, parallel: plan.parallel, jobs },
          () => report.renderPlan(plan, jobs),
        );
        return;
      }
      const logger = log("batch");
      const { report: result, files } = await runBatch(plan, {
        config: globalOptions(cmd).config,
        onJobEnd: (job) => {
          const say = job.status === "completed" ? logger.info : logger.warn;
          say("{name} ({kind}) {status}: {outcome}", {
            name: job.name,
            kind: job.kind,
            status: job.status,
            outcome: report.jobOutcome(job),
          });
        },
      });
      if (result.interrupted !== null) {
        writeStderr(report.renderText(result, files));
        await endWithSignal(result.interrupted);
      }
      if (!result.all_completed) {
        // A failed command prints nothing on stdout: the outcomes go before the envelope.
        writeStderr(report.renderText(result, files));
        throw batchFailure(result, files);
      }
      emitSuccess(cmd, { ...result }, () => report.renderText(result, files));
    });
}
