/**
 * `ab-compare`: replays one workload CSV on a baseline and a candidate map configuration (mode
 * and config file), `--repeat` times each, alternating baseline, candidate, and reports both
 * sides' median runs side by side with their ratios (`ab_compare.v1`, docs/ab_compare.md).
 *
 * @module
 */

import { type Command, Option } from "../command.ts";
import { BadInputError } from "../../errors.ts";
import { type AdhashConfig, loadConfig } from "../../config/load.ts";
import { commitAll, type StagedFile, stageFile } from "../../io/atomic_write.ts";
import { joinPath } from "../../io/path.ts";
import { encodeLines } from "../../io/write_all.ts";
import { type Mode, MODES } from "../../core/factory.ts";
import { log, loggingPending } from "../../log/setup.ts";
import type { RunSummary } from "../../contracts/run_summary.ts";
import type { AbCompareReport } from "../../contracts/ab_compare.ts";
import { checkDistinctPaths, checkOutputDirs, checkOutputFiles } from "../paths.ts";
import {
  addCsvLimitOptions,
  newMap,
  RUN_CSV_DEFAULTS,
  runCsv,
  type RunCsvFlags,
} from "./run_csv.ts";
import { warmUp } from "../../replay/warm_up.ts";
import {
  AB_ROLES,
  buildAbReport,
  checkLabels,
  formatAbMarkdown,
  formatAbText,
  medianIndex,
} from "../../replay/ab_compare.ts";
import { commandConfig, emitSuccess, globalOptions, intArg } from "../program.ts";
import { checkWorkloadPath } from "../../workload/csv_reader.ts";

/** Flags of `ab-compare`. */
interface AbCompareFlags {
  csv: string;
  baselineLabel: string;
  candidateLabel: string;
  baselineMode?: Mode;
  candidateMode: Mode;
  baselineConfig?: string;
  candidateConfig?: string;
  repeat: number;
  warmupRows: number;
  csvMaxRows: number;
  csvMaxBytes: number;
  outDir: string;
  jsonOut?: string;
  markdownOut?: string;
  noArtifacts?: boolean;
}

/**
 * Rows replayed on each side before the measured runs, as `demo` does: the side replayed first
 * in a process otherwise pays alone for compiling the parser and the replay loop, 10-20% of
 * its ops/s (docs/performance.md, "Replay path").
 */
export const AB_WARMUP_ROWS = 1_000_000;

/** One side as configured, and its runs so far. */
interface Side {
  label: string;
  mode: Mode;
  /** Its configuration; `source` is the file read, reported as the side's `config`. */
  config: AdhashConfig;
  metricsFile: string | null;
  summaries: RunSummary[];
  /** Each run's metrics, staged beside `metricsFile` until the median run is known. */
  metrics: StagedFile[];
}

/** Registers `ab-compare`. */
export function registerAbCompareCommand(program: Command): void {
  addCsvLimitOptions(
    program.command("ab-compare")
      .description("Replay one workload on two map configurations and compare them side by side")
      .requiredOption("--csv <path>", "workload CSV (op,key,value), replayed once per run"),
  )
    .option("--baseline-label <name>", "name of the baseline side (names its files)", "baseline")
    .option("--candidate-label <name>", "name of the candidate side", "candidate")
    .addOption(
      new Option("--baseline-mode <mode>", "baseline map backend (default: --mode)")
        .choices(MODES),
    )
    .addOption(
      new Option("--candidate-mode <mode>", "candidate map backend").choices(MODES)
        .default("fast-lookup"),
    )
    .option("--baseline-config <path>", "TOML config of the baseline (default: --config)")
    .option("--candidate-config <path>", "TOML config of the candidate (default: --config)")
    .option("--repeat <n>", "runs per side, alternating; the median is reported", intArg(1, 100), 1)
    .option(
      "--warmup-rows <n>",
      "rows replayed on each side first, not measured (0 disables)",
      intArg(0, 2 ** 40),
      AB_WARMUP_ROWS,
    )
    .option("--out-dir <dir>", "where ab.json, ab.md and LABEL.metrics.ndjson go", "results/ab")
    .option("--json-out <path>", "write the report here instead of OUT_DIR/ab.json")
    .option("--markdown-out <path>", "write the Markdown table here instead of OUT_DIR/ab.md")
    .option("--no-artifacts", "write no file, print only")
    .preflight(async (opts: AbCompareFlags, cmd: Command) => {
      await planAbCompare(opts, cmd);
    })
    .action(abCompare);
}

/** The two sides and the report's files of an `ab-compare`, every input and output checked. */
interface AbPlan {
  sides: Side[];
  jsonOut: string | null;
  markdownOut: string | null;
}

/**
 * What `ab-compare` refuses before replaying, checked without reading the workload: for the
 * run itself and for one that comes later (`profile --then ab-compare`).
 */
async function planAbCompare(opts: AbCompareFlags, cmd: Command): Promise<AbPlan> {
  const g = globalOptions(cmd);
  if (opts.csv === "-") {
    throw new BadInputError("--csv - (stdin) cannot be replayed twice", {
      hint: "Save the workload to a file and pass its path",
    });
  }
  checkLabels({ baseline: opts.baselineLabel, candidate: opts.candidateLabel });
  const artifacts = opts.noArtifacts !== true;
  const named = opts.jsonOut !== undefined
    ? "--json-out"
    : opts.markdownOut !== undefined
    ? "--markdown-out"
    : cmd.source("outDir") === "cli"
    ? "--out-dir"
    : undefined;
  if (!artifacts && named !== undefined) {
    throw new BadInputError(`--no-artifacts writes no file, yet ${named} is given`, {
      hint: "Drop --no-artifacts, or the output path",
    });
  }
  const jsonOut = artifacts ? opts.jsonOut ?? joinPath(opts.outDir, "ab.json") : null;
  const markdownOut = artifacts ? opts.markdownOut ?? joinPath(opts.outDir, "ab.md") : null;
  const metricsOut = (label: string): string | null =>
    artifacts ? joinPath(opts.outDir, `${label}.metrics.ndjson`) : null;
  const outputs: Array<[string, string | undefined]> = [
    ["--json-out", jsonOut ?? undefined],
    ["--markdown-out", markdownOut ?? undefined],
    [`--out-dir (${opts.baselineLabel} metrics)`, metricsOut(opts.baselineLabel) ?? undefined],
    [
      `--out-dir (${opts.candidateLabel} metrics)`,
      metricsOut(opts.candidateLabel) ?? undefined,
    ],
  ];
  // Inputs may coincide (one config for both sides, named twice); no output may be one.
  const inputs: Array<[string, string | undefined]> = [
    ["--csv", opts.csv],
    ["--config", g.config],
    ["--baseline-config", opts.baselineConfig],
    ["--candidate-config", opts.candidateConfig],
  ];
  for (const input of inputs) checkDistinctPaths([input, ...outputs]);
  checkDistinctPaths(outputs);
  if (artifacts) checkOutputDirs([["--out-dir", opts.outDir]]);
  checkOutputFiles(outputs);
  const sides: Side[] = [];
  for (const role of AB_ROLES) {
    const label = role === "baseline" ? opts.baselineLabel : opts.candidateLabel;
    const file = role === "baseline" ? opts.baselineConfig : opts.candidateConfig;
    const config = file === undefined ? commandConfig() : await loadConfig(file);
    const mode = role === "baseline" ? opts.baselineMode ?? g.mode : opts.candidateMode;
    newMap(mode, config); // a policy the factory refuses fails here, before any replay
    sides.push({
      label,
      mode,
      config,
      metricsFile: metricsOut(label),
      summaries: [],
      metrics: [],
    });
  }
  await checkWorkloadPath(opts.csv);
  return { sides, jsonOut, markdownOut };
}

/** `ab-compare`: both sides replayed `--repeat` times, alternating; the report of the medians. */
async function abCompare(opts: AbCompareFlags, cmd: Command): Promise<void> {
  const logger = log("ab-compare");
  const { sides, jsonOut, markdownOut } = await planAbCompare(opts, cmd);
  const read = { maxBytes: opts.csvMaxBytes, maxRows: opts.csvMaxRows };
  if (opts.warmupRows > 0) {
    logger.info("Warming up: up to {rows} rows on each side, not measured", {
      rows: opts.warmupRows,
    });
    await warmUp(
      opts.csv,
      opts.warmupRows,
      sides.map((s) => () => newMap(s.mode, s.config)),
      read,
    );
  }
  // The first log record loads logtape; its load is not charged to the first measured run.
  await loggingPending();
  const flags: RunCsvFlags = {
    ...RUN_CSV_DEFAULTS,
    csvMaxRows: opts.csvMaxRows,
    csvMaxBytes: opts.csvMaxBytes,
    csv: opts.csv,
  };
  // Every run's metrics are staged; the median runs' are committed with ab.md and ab.json.
  // Discarding one already committed finds no temporary file: nothing to undo.
  const staged: StagedFile[] = [];
  let report: AbCompareReport;
  try {
    for (let run = 1; run <= opts.repeat; run++) {
      for (const s of sides) {
        const ticks: string[] = [];
        const out = await runCsv(flags, {
          mode: s.mode,
          config: s.config,
          // One warning per side at the end beats one per crossing in every run.
          onAlert: () => {},
          ...(s.metricsFile === null
            ? {}
            : { onTick: (t) => void ticks.push(`${JSON.stringify(t)}\n`) }),
        });
        if (out.kind !== "summary") throw new Error("ab-compare: runCsv did not replay");
        s.summaries.push(out.summary);
        if (s.metricsFile !== null) {
          const f = await stageFile(s.metricsFile, encodeLines(ticks));
          staged.push(f);
          s.metrics.push(f);
        }
        logger.info("{label} run {run}/{repeat}: {ops} ops/s", {
          label: s.label,
          run,
          repeat: opts.repeat,
          ops: Math.round(out.summary.ops_per_second),
        });
      }
    }
    report = buildAbReport({
      csv: opts.csv,
      repeat: opts.repeat,
      warmupRows: opts.warmupRows,
      baseline: {
        ...sides[0]!,
        config: sides[0]!.config.source,
        envOverrides: sides[0]!.config.overrides,
      },
      candidate: {
        ...sides[1]!,
        config: sides[1]!.config.source,
        envOverrides: sides[1]!.config.overrides,
      },
      json: jsonOut,
      markdown: markdownOut,
    });
    if (jsonOut !== null && markdownOut !== null) {
      const keep = sides.map((s) =>
        s.metrics[medianIndex(s.summaries.map((x) => x.ops_per_second))]!
      );
      for (const f of staged) if (!keep.includes(f)) f.discard();
      staged.splice(0, staged.length, ...keep);
      staged.push(await stageFile(markdownOut, formatAbMarkdown(report)));
      // Last: a reader that finds ab.json finds the files it names.
      staged.push(await stageFile(jsonOut, `${JSON.stringify(report, null, 2)}\n`));
      commitAll(staged);
    }
  } catch (err) {
    for (const f of staged) f.discard();
    throw err;
  }
  for (const s of [report.baseline, report.candidate]) {
    if (s.summary.alerts > 0) {
      logger.warn("{label}: {alerts} watchdog alerts in the median run (see docs/config.md)", {
        label: s.label,
        alerts: s.summary.alerts,
      });
    }
  }
  emitSuccess(cmd, { ...report }, () => formatAbText(report));
}
