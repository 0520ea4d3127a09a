/**
 * `hashmap-cli serve`: the metrics server and Mission Control dashboard, fed from a
 * `metrics.v1` NDJSON file (optionally followed) or idle until one is given.
 *
 * @module
 */

import { type Command, Option } from "../command.ts";
import { BadInputError, IOError, withEnvHint } from "../../errors.ts";
import { log } from "../../log/setup.ts";
import {
  emitSuccess,
  floatArg,
  globalOptions,
  intArg,
  portArg,
  refuseUnused,
  writeStdout,
} from "../program.ts";
import { leaveSignalsToProgram } from "../../io/atomic_write.ts";
import { readSmallText } from "../../io/read_text.ts";
import type { SourceHandle } from "../../server/source.ts";
import { DEFAULT_HISTORY_LIMIT, MAX_SERVE_HISTORY } from "../../server/hub.ts";
import { waitForSignal } from "../stop_signal.ts";

interface ServeOptions {
  host: string;
  port: number | "auto";
  source?: string;
  follow?: boolean;
  historyLimit: number;
  pollInterval: number;
  compare?: string;
  jobRoot?: string;
  jobInputDir: string;
  maxJobs: number;
  jobMaxBytes?: number;
}

/**
 * How long a stopping server lets requests under way finish before it exits anyway. A client
 * that stops reading (or never finishes sending) would otherwise hold the process past a
 * service manager's stop timeout (systemd's TimeoutStopSec, 15 s in docs/operations.md), whose
 * SIGKILL loses what shutdown still had to do. Jobs are cancelled first (up to 5 s).
 */
export const SHUTDOWN_GRACE_MS = 5000;

/** Reads the comparison JSON given to `--compare`. */
async function readCompare(path: string): Promise<unknown> {
  const hint = "Pass an A/B comparison as JSON (docs/dashboard.md, Compare)";
  if (await isDirectory(path)) {
    throw new BadInputError(`--compare ${JSON.stringify(path)} is a directory`, { hint });
  }
  let text: string;
  try {
    text = await readSmallText(path, "--compare", { hint });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new IOError(`--compare file not found: ${JSON.stringify(path)}`, { cause: err });
    }
    throw err;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new BadInputError(`--compare ${JSON.stringify(path)} is not valid JSON`, {
      hint,
      cause: err,
    });
  }
  // The Compare view shows any object (two sides, or one table); `null` would read as no file.
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    const found = doc === null ? "null" : Array.isArray(doc) ? "an array" : `a ${typeof doc}`;
    throw new BadInputError(
      `--compare ${JSON.stringify(path)} holds ${found}, not a JSON object`,
      { hint },
    );
  }
  return doc;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false; // a missing file is reported when it is opened
  }
}

/** The job service's options, besides --job-root, which they are for. */
const JOB_FLAGS = [
  ["jobInputDir", "--job-input-dir"],
  ["maxJobs", "--max-jobs"],
  ["jobMaxBytes", "--job-max-bytes"],
] as const;

/** Everything `serve` does before it serves: checks, the source, the job service, the socket. */
async function startServing(opts: ServeOptions, cmd: Command) {
  const logger = log("server");
  leaveSignalsToProgram(); // waitForSignal() below shuts down in order, jobs included
  if (opts.follow && opts.source === undefined) {
    throw new BadInputError("--follow needs --source", {
      hint: "e.g. --source runs/metrics.ndjson --follow",
    });
  }
  refuseUnused(cmd, "pollInterval", "--poll-interval", "--follow", opts.follow === true);
  for (const [key, flag] of JOB_FLAGS) {
    refuseUnused(cmd, key, flag, "--job-root", opts.jobRoot !== undefined);
  }
  // The server (hono, zod, the embedded assets) loads only for this command.
  const [
    { MetricsHub },
    { followSource },
    { LOOPBACK_ADDRESSES, startMetricsServer, stoppedText },
    { serverEnv },
    { snapshotWorkerInBuild },
  ] = await Promise.all([
    import("../../server/hub.ts"),
    import("../../server/source.ts"),
    import("../../server/start.ts"),
    import("../../server/env.ts"),
    import("../../server/snapshot_pool.ts"),
  ]);
  const settings = serverEnv();
  // Jobs run commands for whoever can reach the server: never for anyone on the network.
  if (
    opts.jobRoot !== undefined && settings.token === undefined && !LOOPBACK_ADDRESSES.has(opts.host)
  ) {
    throw new BadInputError(
      `The job service on host ${JSON.stringify(opts.host)} needs ADHASH_TOKEN`,
      { hint: "Set ADHASH_TOKEN, or serve jobs on 127.0.0.1 only" },
    );
  }
  const compare = opts.compare === undefined ? undefined : await readCompare(opts.compare);
  const hub = new MetricsHub({ historyLimit: opts.historyLimit, compare });
  let source: SourceHandle | undefined;
  if (opts.source !== undefined && (await isDirectory(opts.source))) {
    throw new BadInputError(`--source ${JSON.stringify(opts.source)} is a directory`, {
      hint: "Name a metrics.v1 NDJSON file, e.g. runs/m/metrics.ndjson",
    });
  }
  if (opts.source !== undefined) {
    try {
      source = await followSource(opts.source, hub, {
        follow: opts.follow ?? false,
        pollMs: Math.round(opts.pollInterval * 1000),
      });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new IOError(`--source file not found: ${JSON.stringify(opts.source)}`, {
          cause: err,
        });
      }
      throw err;
    }
  }
  const root = opts.jobRoot;
  const jobs = root === undefined ? undefined : await withEnvHint(
    [[cmd.envSource("jobRoot"), root], [cmd.envSource("jobInputDir"), opts.jobInputDir]],
    async () =>
      (await import("../../server/jobs.ts")).JobService.open({
        root,
        inputDir: opts.jobInputDir,
        maxJobs: opts.maxJobs,
        maxRootBytes: opts.jobMaxBytes,
        config: globalOptions(cmd).config, // --config or ADHASH_CONFIG, as this server read it
        // Jobs run this program: the compiled binary itself, or the script this process runs
        // (a bundle, cli.ts); server.ts would serve instead, so it lets the service use cli.ts.
        ...(Deno.build.standalone
          ? { script: null }
          : Deno.mainModule.endsWith("/server.ts")
          ? {}
          : { script: Deno.mainModule }),
      }),
  );
  let server;
  try {
    server = await withEnvHint(
      [[cmd.envSource("host"), opts.host], [cmd.envSource("port"), opts.port]],
      () =>
        startMetricsServer({
          ...settings,
          hub,
          host: opts.host,
          port: opts.port,
          jobs,
          onStopped: (err, retryMs) =>
            logger.warn("{message}", { message: stoppedText(err, retryMs) }),
          onResumed: (port) => logger.info("Listening again on port {port}", { port }),
        }),
    );
  } catch (err) {
    await jobs?.close();
    throw err;
  }
  return { server, settings, hub, source, jobs, logger, workers: snapshotWorkerInBuild() };
}

/** Adds the `serve` command to `program`. */
export function registerServeCommands(program: Command): void {
  program.command("serve")
    .alias("mission-control") // the original's name for its dashboard
    .description("Serve /metrics, the JSON API and the Mission Control dashboard")
    .addOption(
      new Option("--host <host>", "interface to bind").env("ADHASH_METRICS_HOST").default(
        "127.0.0.1",
      ),
    )
    .addOption(
      new Option("--port <port>", "port 0-65535 or auto").env("ADHASH_METRICS_PORT").argParser(
        portArg,
      )
        .default(9090),
    )
    .option("--source <path>", "metrics.v1 NDJSON file to serve")
    .option("--follow", "keep reading lines appended to --source (handles rotation)")
    .option(
      "--history-limit <n>",
      "ticks kept for history and charts",
      intArg(1, MAX_SERVE_HISTORY),
      DEFAULT_HISTORY_LIMIT,
    )
    .option(
      "--poll-interval <seconds>",
      "how often a followed source is checked",
      floatArg(0.01, 60),
      1.0,
    )
    .option("--compare <path>", "A/B comparison JSON shown in the Compare view")
    .addOption(
      new Option("--job-root <dir>", "run the job service (/api/jobs), keeping jobs in DIR")
        .env("ADHASH_JOB_ROOT"),
    )
    .addOption(
      new Option("--job-input-dir <dir>", "job requests name files inside this directory")
        .env("ADHASH_JOB_INPUT_DIR").default("."),
    )
    .addOption(
      new Option("--max-jobs <n>", "jobs running at once").env("ADHASH_MAX_JOBS")
        .argParser(intArg(1, 64)).default(4),
    )
    .addOption(
      new Option(
        "--job-max-bytes <n>",
        "bytes the finished jobs may take, past which the oldest are removed (default 10 GiB)",
      ).env("ADHASH_JOB_MAX_BYTES").argParser(intArg(0, Number.MAX_SAFE_INTEGER)),
    )
    .action(async (opts: ServeOptions, cmd: Command) => {
      const started = await startServing(opts, cmd);
      const { server, settings, hub, source, jobs, logger, workers } = started;
      // Listening before the first line says the server is up: a SIGTERM sent on reading it
      // found no listener and ended the process (exit 143) in 7 of 12 tries.
      const signalled = waitForSignal();
      writeStdout(`Dashboard: ${server.url}\n`);
      // Never log the token itself, only whether auth is on.
      logger.info(
        "serving on {host}:{port} (auth {auth}, source {source}, jobs {jobs}, inspections {inspections})",
        {
          host: opts.host,
          port: server.port,
          auth: settings.token === undefined ? "off" : "on",
          source: opts.source ?? "none",
          jobs: opts.jobRoot ?? "off",
          inspections: workers ? "in a worker" : "on this thread",
        },
      );
      if (!workers) {
        // A release binary built without `--include` would otherwise pass unnoticed.
        logger.warn(
          "src/server/snapshot_worker.ts is not in this build (a bundle, or a binary compiled " +
            "without --include it): snapshot inspections and probes run on the server's thread",
        );
      }
      const signal = await Promise.race([signalled, server.failure]);
      if (typeof signal === "string") logger.info("{signal} received; shutting down", { signal });
      await source?.stop();
      await jobs?.close();
      // Not listening any more: jobs are cancelled as on SIGTERM, and the envelope says why.
      if (signal instanceof IOError) throw signal;
      const unfinished = await server.closeWithin(SHUTDOWN_GRACE_MS);
      if (unfinished > 0) {
        logger.warn(
          "{count} request(s) still unfinished {seconds} s after {signal}; cutting them off",
          { count: unfinished, seconds: SHUTDOWN_GRACE_MS / 1000, signal },
        );
      }
      emitSuccess(
        cmd,
        { port: server.port, ticks: hub.received, skipped: source?.skipped ?? 0 },
        "",
      );
    });
}
