/**
 * `run-csv`: replays a workload CSV on a map; metrics NDJSON, summary, snapshots.
 *
 * @module
 */

import { checkDistinctPaths, checkOutputDirs, checkOutputFiles, sameFilePath } from "../paths.ts";
import {
  commitAll,
  leaveSignalsToProgram,
  type StagedFile,
  stageFile,
} from "../../io/atomic_write.ts";
import { waitForSignal } from "../stop_signal.ts";
import { DEFAULT_HISTORY_LIMIT, MAX_SERVE_HISTORY } from "../../server/hub.ts";
import { lockFile } from "../../io/file_lock.ts";
import { type Command, Option } from "../command.ts";
import { BadInputError, withEnvHint } from "../../errors.ts";
import { micros, round, thousands } from "../../format.ts";
import { type AnyMap, createMap, type Mode } from "../../core/factory.ts";
import { checkWorkloadPath, type ReadStats, readWorkload } from "../../workload/csv_reader.ts";
import { replay, type ReplayMap, type ReplayResult } from "../../replay/replay.ts";
import { MetricsNdjsonWriter } from "../../replay/metrics_sink.ts";
import type { LatencyPreset } from "../../replay/latency.ts";
import type { RunSummary } from "../../contracts/run_summary.ts";
import type { AdhashConfig } from "../../config/load.ts";
import { log, loggingPending } from "../../log/setup.ts";
import { checkSnapshotAt, continueSnapshotAt, snapshotCodec, stageSnapshotAt } from "./snapshot.ts";
import { warnIfLargeMap } from "../large_map.ts";
import { resolveCompression } from "../../snapshot/compression.ts";
import {
  commandConfig,
  emitSuccess,
  floatArg,
  globalOptions,
  intArg,
  notice,
  portArg,
  refuseUnused,
} from "../program.ts";

/** Flags of `run-csv`. */
export interface RunCsvFlags {
  csv: string;
  metricsOutDir?: string;
  dryRun?: boolean;
  csvMaxRows: number;
  csvMaxBytes: number;
  metricsMaxTicks?: number;
  snapshotIn?: string;
  snapshotOut?: string;
  compress?: boolean;
  noCompress?: boolean;
  compactInterval?: number;
  jsonSummaryOut?: string;
  latencySampleK: number;
  latencySampleEvery: number;
  latencyBuckets: LatencyPreset;
  tickEvery: number;
}

/** Defaults of `run-csv`'s flags (the original's). */
export const RUN_CSV_DEFAULTS: Readonly<
  Pick<
    RunCsvFlags,
    | "csvMaxRows"
    | "csvMaxBytes"
    | "tickEvery"
    | "latencySampleK"
    | "latencySampleEvery"
    | "latencyBuckets"
  >
> = Object.freeze({
  csvMaxRows: 5_000_000,
  csvMaxBytes: 524_288_000,
  tickEvery: 1024,
  latencySampleK: 1000,
  latencySampleEvery: 128,
  latencyBuckets: "default",
});

/** Everything a run needs besides the flags. */
export interface RunContext {
  mode: Mode;
  /** `--mode` was given, not defaulted: a `--snapshot-in` map replacing it is worth a word. */
  modeGiven?: boolean;
  config: AdhashConfig;
  /** Extra tick consumer (issue 5: the live metrics server of `--metrics-port`). */
  onTick?: (tick: import("../../contracts/metrics.ts").MetricsTick) => void | Promise<void>;
  /** Called with the map before the replay starts (the live server probes it). */
  onMap?: (map: AnyMap<unknown>) => void;
  /** Called with each watchdog alert (default: a log warning). */
  onAlert?: (alert: import("../../contracts/metrics.ts").Alert) => void;
  /**
   * The run shares its thread with a server (`--metrics-port`): the workload file is read
   * asynchronously, so requests are served between chunks as well as at ticks.
   */
  servesRequests?: boolean;
}

/** Outcome of {@linkcode runCsv}: a summary, or the dry-run report. */
export type RunCsvOutcome =
  | { kind: "summary"; summary: RunSummary; result: ReplayResult }
  | { kind: "validated"; report: Record<string, unknown> };

/** The map of `mode`; a policy the factory refuses is bad input (exit 2). */
export function newMap(mode: Mode, config: AdhashConfig): AnyMap<unknown> {
  try {
    return createMap<unknown>(mode, config.policy);
  } catch (err) {
    if (err instanceof RangeError) {
      throw new BadInputError(`Invalid adaptive policy: ${err.message}`, {
        hint: "See docs/config.md",
      });
    }
    throw err;
  }
}

/** The map of the snapshot at `path`, to continue; it replaces `--mode`. */
async function continueSnapshot(
  path: string,
  ctx: RunContext,
): Promise<{ map: AnyMap<unknown>; compressed: boolean }> {
  const loaded = await continueSnapshotAt(path, "run-csv");
  log("run-csv").info(
    `Loaded {size} entries ({backend}) from {path}${
      ctx.modeGiven === true ? "; its map replaces --mode {mode}" : ""
    }`,
    { size: loaded.map.size, backend: loaded.map.backend, path, mode: ctx.mode },
  );
  return loaded;
}

/** Refuses outputs that clash with each other or with the inputs, before any work. */
function checkOutputs(flags: RunCsvFlags): void {
  // --snapshot-in may equal --snapshot-out: continuing a map and saving it back is a use.
  const outputs: Array<[string, string | undefined]> = [
    ["--metrics-out-dir", flags.metricsOutDir && `${flags.metricsOutDir}/metrics.ndjson`],
    ["--json-summary-out", flags.jsonSummaryOut],
    ["--snapshot-out", flags.snapshotOut],
  ];
  if (flags.compress && flags.noCompress) {
    throw new BadInputError("--compress and --no-compress contradict each other");
  }
  const flag = flags.compress ? "--compress" : flags.noCompress ? "--no-compress" : undefined;
  if (flag !== undefined && flags.snapshotOut === undefined) {
    const does = flags.compress ? "gzips" : "concerns";
    throw new BadInputError(`${flag} ${does} --snapshot-out, which is not given`, {
      hint: `Add --snapshot-out PATH, or drop ${flag}`,
    });
  }
  // A .gz name with --no-compress is refused now, not after the replay.
  if (flags.snapshotOut !== undefined && flags.noCompress) {
    resolveCompression(flags.snapshotOut, false);
  }
  checkDistinctPaths([["--csv", flags.csv], ...outputs]);
  checkDistinctPaths([["--snapshot-in", flags.snapshotIn], ...outputs.slice(0, 2)]);
  checkOutputDirs([["--metrics-out-dir", flags.metricsOutDir]]);
  checkOutputFiles(outputs);
}

/** Refuses the flags given that would do nothing for want of another. */
function refuseUnusedFlags(flags: RunCsvFlags & { metricsPort?: unknown }, cmd: Command): void {
  const out = flags.metricsOutDir !== undefined;
  refuseUnused(cmd, "metricsMaxTicks", "--metrics-max-ticks", "--metrics-out-dir", out);
  const port = flags.metricsPort !== undefined;
  refuseUnused(cmd, "metricsHost", "--metrics-host", "--metrics-port", port);
  refuseUnused(cmd, "metricsLinger", "--metrics-linger", "--metrics-port", port);
  refuseUnused(cmd, "metricsHistory", "--metrics-history", "--metrics-port", port);
}

/**
 * Keeps the live server up `seconds` after the replay, or until a stop signal: a replay of a
 * million rows is over in a second, before anyone has opened its dashboard.
 */
async function linger(cmd: Command, url: string, seconds: number): Promise<void> {
  // The outputs are committed: a signal now ends a wait, not a write.
  leaveSignalsToProgram();
  notice(cmd, "run-csv", `The replay is done; ${url} stays up for ${seconds} s (Ctrl-C to stop)`);
  const timeUp = new AbortController();
  const timer = setTimeout(() => timeUp.abort(), seconds * 1000);
  const signal = await waitForSignal(timeUp.signal);
  clearTimeout(timer);
  if (signal !== null) {
    log("run-csv").info("{signal} received; stopping the live server", { signal });
  }
}

/**
 * What {@linkcode runCsv} would refuse before replaying, checked without reading the inputs:
 * for a run that comes later (`profile --then run-csv`).
 */
async function preflightRunCsv(flags: RunCsvFlags, cmd: Command): Promise<void> {
  refuseUnusedFlags(flags, cmd);
  checkOutputs(flags);
  await checkWorkloadPath(flags.csv);
  if (flags.snapshotIn !== undefined) await checkSnapshotAt(flags.snapshotIn);
}

/**
 * Runs (or with `dryRun`, validates) a workload. Outputs (metrics file, summary file, snapshot)
 * appear only when the whole input replayed; a failure part-way leaves none of them behind.
 */
export async function runCsv(flags: RunCsvFlags, ctx: RunContext): Promise<RunCsvOutcome> {
  const logger = log("run-csv");
  const readOptions = {
    maxBytes: flags.csvMaxBytes,
    maxRows: flags.csvMaxRows,
    asyncReads: ctx.servesRequests === true,
  };
  const stats: ReadStats = { rows: 0, bytes: 0, lines: 0 };
  checkOutputs(flags);
  if (flags.dryRun) {
    // Every input a run would read, read as it would: a snapshot that cannot start the run
    // fails the dry run too, and the mode reported is the one the run would replay on.
    const loaded = flags.snapshotIn === undefined
      ? null
      : (await continueSnapshot(flags.snapshotIn, ctx)).map;
    for await (const _batch of readWorkload(flags.csv, readOptions, stats)) {
      // validation only
    }
    return {
      kind: "validated",
      report: {
        status: "validated",
        csv: flags.csv,
        mode: loaded === null ? ctx.mode : `snapshot:${loaded.backend}`,
        rows: stats.rows,
        size_bytes: stats.bytes,
        size_mib: round(stats.bytes / (1 << 20), 3),
      },
    };
  }
  // Continuing a map and saving it back is a read-modify-write: the snapshot's lock keeps a
  // `put` or another run from changing it in between, only to be overwritten.
  let release: (() => void) | undefined;
  if (
    flags.snapshotOut !== undefined && flags.snapshotIn !== undefined &&
    sameFilePath(flags.snapshotOut, flags.snapshotIn)
  ) {
    logger.info("--snapshot-out names --snapshot-in's file: the snapshot is replaced atomically");
    release = await lockFile(flags.snapshotOut);
  }
  let map: AnyMap<unknown>;
  let gzippedInput = false; // --snapshot-out keeps --snapshot-in's compression
  let snapshots: Awaited<ReturnType<typeof snapshotCodec>> | null;
  let writer: MetricsNdjsonWriter | null;
  try {
    // The snapshot codec loads only for runs that use it: start-up time counts in every run.
    snapshots = flags.snapshotIn !== undefined || flags.snapshotOut !== undefined ||
        (flags.compactInterval ?? 0) > 0
      ? await snapshotCodec()
      : null;
    if (flags.snapshotIn !== undefined) {
      ({ map, compressed: gzippedInput } = await continueSnapshot(flags.snapshotIn, ctx));
    } else {
      map = newMap(ctx.mode, ctx.config);
    }
    ctx.onMap?.(map);
    writer = flags.metricsOutDir !== undefined
      ? MetricsNdjsonWriter.open(flags.metricsOutDir, flags.metricsMaxTicks ?? 0)
      : null;
  } catch (err) {
    release?.(); // a run that cannot start leaves no lock file behind
    throw err;
  }
  let result: ReplayResult | undefined;
  let summary: RunSummary;
  // Every output is written and fsynced under a temporary name first, then all are renamed:
  // a run that fails, reading its input or writing any output, commits none of them.
  const staged: StagedFile[] = [];
  const committed = { count: 0 };
  try {
    const onTick = ctx.onTick;
    result = await replay(map as ReplayMap, readWorkload(flags.csv, readOptions, stats), {
      tickEvery: flags.tickEvery,
      latencySampleEvery: flags.latencySampleEvery,
      latencySampleK: flags.latencySampleK,
      latencyBuckets: flags.latencyBuckets,
      watchdog: ctx.config.watchdog,
      // A log record (a watchdog warning) waits for logtape to load, which needs the event
      // loop, and a file read synchronously never gives it a turn: the next tick waits for it.
      onTick: (tick) => {
        writer?.write(tick);
        return onTick?.(tick) ?? loggingPending();
      },
      onAlert: ctx.onAlert ?? ((a) => logger.warn("Watchdog: {message}", { ...a })),
      ...(flags.compactInterval !== undefined && flags.compactInterval > 0
        ? {
          maintenance: {
            everySeconds: flags.compactInterval,
            run: (m: ReplayMap) => {
              // Nothing to give back: no tombstones, and at least a quarter full. Rebuilt
              // anyway, a big table cost the whole replay's time again at every interval.
              const s = m.stats();
              if (s.tombstones === 0 && s.loadFactor >= 0.25) {
                return { map: m, note: "nothing to compact", compacted: false };
              }
              const out = snapshots!.compactMap(m as AnyMap<unknown>);
              return { map: out.map as ReplayMap, note: out.note, compacted: out.compacted };
            },
          },
        }
        : {}),
    });
    if (flags.snapshotOut !== undefined) {
      const compress = resolveCompression(
        flags.snapshotOut,
        flags.compress ? true : flags.noCompress ? false : gzippedInput || undefined,
      );
      staged.push(
        await stageSnapshotAt(flags.snapshotOut, result.finalMap as AnyMap<unknown>, compress),
      );
    }
    const finalMap = result.finalMap as AnyMap<unknown>;
    warnIfLargeMap(ctx.config, "run-csv", finalMap.size);
    const fs = result.finalStats;
    summary = {
      schema: "run_summary.v1",
      csv: flags.csv,
      mode: flags.snapshotIn !== undefined ? `snapshot:${finalMap.backend}` : ctx.mode,
      elapsed_seconds: round(result.elapsedSeconds, 6),
      total_ops: result.totalOps,
      ops_per_second: round(result.opsPerSecond, 1),
      ops_by_type: result.opsByType,
      final_backend: result.finalBackend,
      migrations_triggered: result.migrations,
      compactions_triggered: result.compactions,
      latency_ms: result.latencyMs,
      latency_sample: result.latencySample,
      latency_histogram_preset: result.latencyPreset,
      final_stats: {
        backend: fs.backend,
        size: fs.size,
        capacity: fs.capacity,
        load_factor: round(fs.loadFactor, 6),
        max_group_len: fs.maxGroupLen,
        avg_probe_distance: round(fs.avgProbeDistance, 6),
        tombstones: fs.tombstones,
        tombstone_ratio: round(fs.tombstoneRatio, 6),
        bytes_estimate: fs.bytesEstimate,
      },
      bytes_per_entry: fs.size === 0 ? 0 : round(fs.bytesEstimate / fs.size, 3),
      ticks: result.ticks,
      alerts: result.alerts,
      metrics_file: writer?.path ?? null,
      snapshot_in: flags.snapshotIn ?? null,
      snapshot_out: flags.snapshotOut ?? null,
    };
    if (flags.jsonSummaryOut !== undefined) {
      staged.push(
        await stageFile(flags.jsonSummaryOut, `${JSON.stringify(summary, null, 2)}\n`),
      );
    }
    // First: its temporary file has existed since the run began, the longest exposed to a
    // directory moved or removed meanwhile.
    if (writer !== null) staged.unshift(await writer.stage());
    commitAll(staged, committed);
    release?.();
  } catch (err) {
    release?.();
    for (const f of staged.slice(committed.count)) f.discard();
    writer?.abort();
    if (result === undefined) {
      // The error names the line; a row count here disagreed with it by one for some errors.
      logger.error("Run failed; no metrics, summary or snapshot written");
    } else {
      logger.error("Run could not write its outputs; {committed} of them written", {
        committed: committed.count,
      });
    }
    throw err;
  }
  return { kind: "summary", summary, result };
}

/** The text summary printed without `--json`. */
/** `s` as text; `keptTicks`: `--metrics-max-ticks`, when given (0 keeps them all). */
function formatSummary(s: RunSummary, keptTicks = 0): string {
  const lines = [
    `run-csv: ${s.total_ops} ops in ${s.elapsed_seconds.toFixed(3)} s ` +
    `(${thousands(s.ops_per_second)} ops/s)`,
    `mode ${s.mode}, final backend ${s.final_backend}, migrations ${s.migrations_triggered}, ` +
    `compactions ${s.compactions_triggered}`,
    `ops: put ${s.ops_by_type.put}, get ${s.ops_by_type.get}, del ${s.ops_by_type.del}`,
  ];
  const every = s.latency_sample.every_n_ops;
  // Zeros in the table would read as measured latencies.
  if (every === 0) lines.push("latency: not sampled (--latency-sample-every 0)");
  else {
    lines.push(`latency (µs, 1 op in ${every} sampled)    p50        p90        p99`);
    for (const op of ["overall", "put", "get", "del"] as const) {
      const p = s.latency_ms[op];
      lines.push(
        `  ${op.padEnd(36)}${micros(p.p50).padStart(9)}  ${micros(p.p90).padStart(9)}  ${
          micros(p.p99).padStart(9)
        }`,
      );
    }
  }
  const f = s.final_stats;
  lines.push(
    `map: ${f.size} entries, capacity ${f.capacity}, load ${f.load_factor.toFixed(3)}, ` +
      `max group ${f.max_group_len}, avg probe ${f.avg_probe_distance.toFixed(3)}, ` +
      `${f.tombstones} tombstones, ${s.bytes_per_entry.toFixed(1)} bytes/entry`,
  );
  lines.push(
    s.metrics_file === null
      ? "metrics: not written (use --metrics-out-dir DIR)"
      : `metrics: ${s.metrics_file} (${s.ticks} ticks${
        keptTicks > 0 && s.ticks > keptTicks ? `, the last ${keptTicks} kept` : ""
      })`,
  );
  if (s.alerts > 0) lines.push(`watchdog alerts: ${s.alerts}`);
  if (s.snapshot_out) lines.push(`snapshot: ${s.snapshot_out}`);
  return `${lines.join("\n")}\n`;
}

/** Adds `--csv-max-rows` and `--csv-max-bytes` (run-csv's limits and defaults) to `cmd`. */
export function addCsvLimitOptions(cmd: Command): Command {
  return cmd
    .option(
      "--csv-max-rows <n>",
      "refuse more data rows (0 disables)",
      intArg(0, 2 ** 40),
      RUN_CSV_DEFAULTS.csvMaxRows,
    )
    .option(
      "--csv-max-bytes <n>",
      "refuse larger inputs (0 disables)",
      intArg(0, Number.MAX_SAFE_INTEGER),
      RUN_CSV_DEFAULTS.csvMaxBytes,
    );
}

/** Registers `run-csv`. */
export function registerRunCsvCommand(program: Command): void {
  addCsvLimitOptions(
    program.command("run-csv")
      .description("Replay a workload CSV on a map and report throughput, latency and behaviour")
      .requiredOption("--csv <path>", "workload CSV (op,key,value), or - for stdin"),
  )
    .option("--metrics-out-dir <dir>", "write DIR/metrics.ndjson (metrics.v1 ticks)")
    .option("--dry-run", "validate the CSV without replaying it")
    .option("--metrics-max-ticks <n>", "keep only the last N ticks", intArg(1, 100_000_000))
    .option(
      "--tick-every <n>",
      "ops between metrics ticks",
      intArg(1, 1_000_000_000),
      RUN_CSV_DEFAULTS.tickEvery,
    )
    .option("--snapshot-in <path>", "start from this snapshot instead of an empty map")
    .option("--snapshot-out <path>", "save the final map to this snapshot")
    .option("--compress", "gzip --snapshot-out (default: as --snapshot-in is, or its name says)")
    .option("--no-compress", "write --snapshot-out uncompressed")
    .option(
      "--compact-interval <seconds>",
      "compact the table this often, when it has tombstones or is under 1/4 full",
      floatArg(0.001, 1e9),
    )
    .option("--json-summary-out <path>", "also write the summary JSON to this file")
    .option(
      "--latency-sample-k <n>",
      "latency reservoir size",
      intArg(1, 1_000_000),
      RUN_CSV_DEFAULTS.latencySampleK,
    )
    .option(
      "--latency-sample-every <n>",
      "time one op in N on average, at random gaps (0 disables)",
      intArg(0, 1e9),
      RUN_CSV_DEFAULTS.latencySampleEvery,
    )
    .addOption(
      new Option("--latency-buckets <preset>", "histogram buckets").choices(["default", "micro"])
        .env("ADHASH_LATENCY_BUCKETS").default(RUN_CSV_DEFAULTS.latencyBuckets),
    )
    .addOption(
      new Option("--metrics-port <port>", "serve live metrics and the dashboard (0-65535 or auto)")
        .env("ADHASH_METRICS_PORT").argParser(portArg),
    )
    .addOption(
      new Option("--metrics-host <host>", "interface for --metrics-port")
        .env("ADHASH_METRICS_HOST").default("127.0.0.1"),
    )
    .option(
      "--metrics-linger <seconds>",
      "keep serving --metrics-port this long after the replay (Ctrl-C ends it sooner)",
      intArg(0, 86_400),
      0,
    )
    .option(
      "--metrics-history <ticks>",
      "ticks --metrics-port keeps for its history and charts",
      intArg(1, MAX_SERVE_HISTORY),
      DEFAULT_HISTORY_LIMIT,
    )
    .preflight(preflightRunCsv)
    .action(
      async (
        parsed: RunCsvFlags & {
          metricsPort?: number | "auto";
          metricsHost: string;
          metricsLinger: number;
          metricsHistory: number;
        },
        cmd: Command,
      ) => {
        const g = globalOptions(cmd);
        refuseUnusedFlags(parsed, cmd);
        const { metricsPort, metricsHost, metricsLinger, metricsHistory, ...flags } = parsed;
        let map: AnyMap<unknown> | null = null;
        const live = metricsPort === undefined || flags.dryRun ? null : await withEnvHint(
          [[cmd.envSource("metricsPort"), metricsPort], [
            cmd.envSource("metricsHost"),
            metricsHost,
          ]],
          async () =>
            (await import("../../server/live.ts")).startLiveMetrics({
              port: metricsPort,
              host: metricsHost,
              historyLimit: metricsHistory,
              liveMap: () => map,
            }),
        );
        if (live !== null) notice(cmd, "run-csv", `Dashboard: ${live.server.url}`);
        if (live?.threaded === false) {
          log("run-csv").warn(
            "The live server's worker (src/server/live_worker.ts) could not start (a bundle, or " +
              "a binary compiled without --include it): the dashboard shares the replay's thread",
          );
        }
        let outcome: RunCsvOutcome;
        try {
          outcome = await runCsv(flags, {
            mode: g.mode,
            modeGiven: cmd.source("mode") === "cli",
            config: commandConfig(),
            ...(live === null ? {} : {
              onTick: live.onTick,
              onMap: (m: AnyMap<unknown>) => (map = m),
              servesRequests: true,
            }),
          });
          if (outcome.kind === "validated") {
            emitSuccess(cmd, outcome.report, JSON.stringify(outcome.report));
            return;
          }
          const summary = outcome.summary;
          emitSuccess(
            cmd,
            { ...summary },
            () => formatSummary(summary, flags.metricsMaxTicks ?? 0),
          );
          if (live !== null && metricsLinger > 0) await linger(cmd, live.server.url, metricsLinger);
        } finally {
          await live?.close();
        }
      },
    );
}
