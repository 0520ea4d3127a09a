/**
 * `profile`: replays a sample of a workload on every map mode, recommends the fastest, and with
 * `--then` runs another command with that `--mode` (the original's `profile --csv P --then ...`).
 *
 * The sample is read into memory once, so the runs measure the maps, not the CSV parser; each
 * mode is warmed up on it first, then the modes take turns for `--repeat` rounds and each one's
 * median run is reported, as `ab-compare` does for two sides.
 *
 * @module
 */

import { type Command, Option, type ParseResult } from "../command.ts";
import { BadInputError } from "../../errors.ts";
import { MODES } from "../../core/factory.ts";
import { type OpBatch, readWorkload } from "../../workload/csv_reader.ts";
import { replay } from "../../replay/replay.ts";
import {
  buildProfileReport,
  closeAdvice,
  formatProfileText,
  type ProfileRun,
  roundOrder,
} from "../../replay/profile.ts";
import type { ProfileReport } from "../../contracts/profile.ts";
import { atomicWrite } from "../../io/atomic_write.ts";
import { log, loggingPending } from "../../log/setup.ts";
import { checkDistinctPaths, checkOutputFiles, reservePaths } from "../paths.ts";
import { addCsvLimitOptions, newMap } from "./run_csv.ts";
import {
  buildProgram,
  commandConfig,
  emitSuccess,
  type GlobalOptions,
  globalOptions,
  intArg,
  writeStdout,
} from "../program.ts";

/** Flags of `profile`. */
interface ProfileFlags {
  csv: string;
  sampleRows: number;
  repeat: number;
  jsonOut?: string;
  then?: string[];
  csvMaxRows: number;
  csvMaxBytes: number;
}

/** Rows replayed per run when `--sample-rows` is not given. */
export const PROFILE_SAMPLE_ROWS = 200_000;

/** Rows of a workload held in memory, as batches the replay reads. */
interface Sample {
  batches: OpBatch[];
  rows: number;
  /** No row of the workload was left out. */
  wholeFile: boolean;
}

/**
 * Reads the first `rows` rows (all with 0) into batches of their own, and no row more: the
 * workload's limits and validation apply to what is read, as `run-csv` applies them.
 */
async function readSample(
  csv: string,
  rows: number,
  limits: { maxRows: number; maxBytes: number },
): Promise<Sample> {
  const batches: OpBatch[] = [];
  let n = 0;
  for await (const b of readWorkload(csv, { ...limits, takeRows: rows })) {
    // The reader reuses its batch object: keep copies.
    batches.push({
      length: b.length,
      ops: b.ops.slice(0, b.length),
      keys: b.keys.slice(0, b.length),
      values: b.values.slice(0, b.length),
    });
    n += b.length;
    // Full: stop without looking further (a file of exactly `rows` rows reads as a sample).
    if (rows > 0 && n >= rows) return { batches, rows: n, wholeFile: false };
  }
  return { batches, rows: n, wholeFile: true };
}

/** Registers `profile`. */
export function registerProfileCommand(program: Command): void {
  addCsvLimitOptions(
    program.command("profile")
      .description(
        "Replay a sample of a workload on every mode, recommend one, optionally run with it",
      )
      .requiredOption("--csv <path>", "workload CSV (op,key,value), or - for stdin"),
  )
    .option(
      "--sample-rows <n>",
      "rows replayed per run, from the start (0: the whole workload)",
      intArg(0, 2 ** 40),
      PROFILE_SAMPLE_ROWS,
    )
    .option("--repeat <n>", "measured runs per mode; the median is reported", intArg(1, 100), 5)
    .option("--json-out <path>", "also write the profile.v1 report here")
    .addOption(
      new Option(
        "--then <args...>",
        "then run this command with --mode set to the recommendation (must come last)",
      ).remainder(),
    )
    .action(async (opts: ProfileFlags, cmd: Command) => {
      const logger = log("profile");
      const g = globalOptions(cmd);
      if (opts.jsonOut === "-") {
        throw new BadInputError(`--json-out "-" is not a file`, {
          hint: "Use the global --json flag to print the report on stdout",
        });
      }
      checkDistinctPaths([["--csv", opts.csv], ["--config", g.config], [
        "--json-out",
        opts.jsonOut,
      ]]);
      checkOutputFiles([["--json-out", opts.jsonOut]]);
      const then = opts.then === undefined
        ? undefined
        : await checkThen(opts.then, opts.csv, opts.jsonOut, g);
      if (then?.kind === "help") {
        writeStdout(then.text);
        return;
      }
      const config = commandConfig();
      for (const mode of MODES) newMap(mode, config); // a refused policy fails before any work

      const sample = await readSample(opts.csv, opts.sampleRows, {
        maxRows: opts.csvMaxRows,
        maxBytes: opts.csvMaxBytes,
      });
      if (sample.rows === 0) {
        throw new BadInputError(`Workload '${opts.csv}' has no rows to profile`, {
          hint: "See docs/workload_schema.md",
        });
      }
      for (const mode of MODES) await replay(newMap(mode, config), sample.batches); // warm-up
      await loggingPending(); // the first log record loads logtape: not during a measured run
      const runs = new Map<(typeof MODES)[number], ProfileRun[]>(MODES.map((m) => [m, []]));
      for (let round = 0; round < opts.repeat; round++) {
        for (const mode of roundOrder(MODES, round)) {
          const r = await replay(newMap(mode, config), sample.batches);
          const size = r.finalStats.size;
          runs.get(mode)!.push({
            opsPerSecond: r.opsPerSecond,
            p99Ms: r.latencyMs.overall.p99,
            finalBackend: r.finalBackend,
            migrations: r.migrations,
            bytesPerEntry: size > 0 ? r.finalStats.bytesEstimate / size : 0,
          });
        }
      }
      const report = buildProfileReport({
        csv: opts.csv,
        sampleRows: sample.rows,
        wholeFile: sample.wholeFile,
        repeat: opts.repeat,
        runs,
      });
      if (opts.jsonOut !== undefined) {
        await atomicWrite(opts.jsonOut, `${JSON.stringify(report, null, 2)}\n`);
      }
      if (then === undefined) {
        emitSuccess(cmd, { ...report }, () => formatProfileText(report));
        return;
      }
      // stdout belongs to the command run next; the profile goes to the log.
      logRecommendation(logger, report);
      await then.parse(report.recommended_mode).run();
    });
}

/** The `--then` command line, parsed with a `--mode` to come; or the help it asks for. */
type Then =
  | { kind: "help"; text: string }
  | { kind: "command"; parse: (mode: string) => { run: () => Promise<void> } };

/**
 * Parses the `--then` command line before any profiling, so that a mistake in it fails at once;
 * it is parsed again with the recommended mode once known.
 */
async function checkThen(
  then: string[],
  csv: string,
  jsonOut: string | undefined,
  g: GlobalOptions,
): Promise<Then> {
  const line = JSON.stringify(then.join(" "));
  const bad = (why: string, hint: string): BadInputError =>
    new BadInputError(`--then ${line}: ${why}`, { hint });
  // Flags end at "--": what follows is values (`--then put -- K --mode`).
  const end = then.indexOf("--");
  const flags = end < 0 ? then : then.slice(0, end);
  if (flags.some((a) => a === "--mode" || a.startsWith("--mode="))) {
    throw bad("sets --mode, which profile chooses", "Drop --mode from the --then command");
  }
  if (flags.some((a) => a === "--config" || a.startsWith("--config="))) {
    throw bad(
      "sets --config, but the profile ran with another",
      "Give --config before profile: it then applies to both",
    );
  }
  const logging = flags.find((a) => /^--log-(json|file|max-bytes|backup-count)(=|$)/.test(a));
  if (logging !== undefined) {
    throw bad(
      `sets ${logging.split("=", 1)[0]}, but logging was set up before the profile`,
      "Give the logging flags before profile: they then apply to both",
    );
  }
  if (csv === "-") {
    throw bad(
      "cannot follow a profile of stdin: the sample consumed it",
      "Save the workload to a file and pass its path",
    );
  }
  const { REGISTRARS } = await import("../main.ts"); // late: main.ts imports this module
  // The global flags a command reads through globalOptions(); logging is already set up.
  const globals = [...(g.json ? ["--json"] : []), ...(g.config ? ["--config", g.config] : [])];
  const parse = (mode: string): ParseResult =>
    buildProgram(REGISTRARS).parse(["--mode", mode, ...globals, ...then]);
  const first = parse("adaptive");
  if (first.kind === "help" || first.kind === "version") return { kind: "help", text: first.text };
  if (first.kind === "none" || first.command.name() === "profile") {
    throw bad(
      "names no command to run after the profile",
      "Name the command to run with the recommended mode, e.g. --then run-csv --csv F",
    );
  }
  // Its files, before the profile's minutes: the profile's own are for it to read, not write,
  // and its report may replace none of them.
  checkDistinctPaths([["--json-out", jsonOut], ...first.paths]);
  reservePaths([["--csv", csv], ["--json-out", jsonOut]]);
  await first.preflight();
  const ignored = modeIgnored(first.command);
  if (ignored !== undefined) {
    throw bad(`${ignored[0]}: the recommended --mode would change nothing`, ignored[1]);
  }
  return {
    kind: "command",
    parse(mode) {
      const next = parse(mode);
      if (next.kind !== "action") throw new Error(`--then parsed as ${next.kind} the second time`);
      return next;
    },
  };
}

/**
 * Why `cmd` would not build a map with the recommended mode that outlives it or shapes its
 * output, and what to do instead; undefined when it would. Asked after the command's preflight,
 * which reports a missing or corrupt file as the command alone would.
 */
function modeIgnored(cmd: Command): [why: string, hint: string] | undefined {
  const name = cmd.name();
  const o = cmd.opts() as Record<string, unknown>;
  const snapshot = typeof o.snapshot === "string" ? o.snapshot : undefined;
  const saved = (path: string): [string, string] => [
    `${name} works on the map saved in ${
      JSON.stringify(path)
    }, whose backend --mode does not change`,
    "Give a --snapshot that does not exist yet: it is then made with the recommended mode",
  ];
  switch (name) {
    case "run-csv":
      return o.snapshotIn === undefined ? undefined : [
        "run-csv --snapshot-in replays on the saved map, whose backend --mode does not change",
        "Drop --snapshot-in to replay on a new map of the recommended mode",
      ];
    case "ab-compare":
      return o.baselineMode === undefined ? undefined : [
        "ab-compare --baseline-mode sets the mode of the side --mode would",
        "Drop --baseline-mode: the baseline then takes the recommended mode",
      ];
    case "probe-visualize":
      return snapshot !== undefined && isFile(snapshot) ? saved(snapshot) : undefined;
    case "put":
    case "del":
      if (snapshot === undefined) {
        return [
          `${name} without --snapshot keeps its map nowhere`,
          "Add --snapshot with a file that does not exist yet: it is then made with the recommended mode",
        ];
      }
      return isFile(snapshot) ? saved(snapshot) : undefined;
    default:
      return [
        `${name} builds no map with --mode`,
        `Run ${name} on its own; --then runs run-csv, ab-compare, probe-visualize, put or del`,
      ];
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function logRecommendation(logger: ReturnType<typeof log>, r: ProfileReport): void {
  logger.info("Recommended --mode {mode}: {margin}x the runner-up, {runnerUp}", {
    mode: r.recommended_mode,
    margin: r.margin,
    runnerUp: r.modes[1]?.mode ?? "none",
  });
  const advice = closeAdvice(r);
  if (advice !== null) logger.info(advice); // mode names hold no braces (placeholders)
}
