/**
 * The `hashmap-cli` program: global flags, error contract, output helpers.
 *
 * HOW TO WRITE A COMMAND (src/cli/commands/<name>.ts):
 *
 * ```ts ignore
 * import type { Command } from "../command.ts";
 * import { BadInputError } from "../../errors.ts";
 * import { commandConfig, emitSuccess, globalOptions, intArg } from "../program.ts";
 *
 * export function registerFooCommands(program: Command): void {
 *   program.command("foo")
 *     .description("Does foo")
 *     .requiredOption("--in <path>", "input file")
 *     .option("--limit <n>", "max rows", intArg(0, 1_000_000), 20)   // bad value -> BadInput
 *     .action(async (opts: { in: string; limit: number }, cmd: Command) => {
 *       const { mode, json } = globalOptions(cmd);   // global flags, before or after "foo"
 *       const { policy, watchdog } = commandConfig(); // [adaptive]/[watchdog] + env, validated
 *       if (opts.limit === 0) throw new BadInputError("...", { hint: "..." }); // -> envelope, exit 2
 *       emitSuccess(cmd, { rows: 3 }, "3 rows\n");
 *       // --json: prints {"ok":true,"command":"foo","rows":3}; otherwise prints the text.
 *     });
 * }
 * ```
 *
 * Rules: never call Deno.exit or print an error yourself; throw an AdhashError subclass from
 * src/errors.ts (BadInputError 2, InvariantError 3, PolicyError 4, IOError 5) and the single
 * handler in {@linkcode runCli} prints the envelope as the last stderr line and picks the exit
 * code. Deno.errors.NotFound and other I/O errors map to IO (5), permission denials to Policy (4),
 * anything else to Internal (1). Usage errors (unknown command/option, bad value, missing
 * argument) are BadInput (2). Use `log("foo")` from src/log/setup.ts for log lines
 * (stderr); stdout carries only the result. Do not declare options named like the global ones
 * (--mode, --json, --log-json, --log-file, --log-max-bytes, --log-backup-count, --config).
 * Other helpers: `floatArg(min, max)`, `portArg` (0-65535 or "auto"), `writeStdout`/`writeStderr`
 * (synchronous, complete before exit). Options take their value from the environment with
 * `new Option(...).env(NAME)` (read with `readEnv` from ../command.ts: unset, empty and not
 * permitted all mean "not given", but empty is a bad value for a path), and bad values there
 * are BadInput naming the variable. Load
 * heavy modules (the snapshot codec, the server) with `await import()` inside the action: every
 * command's module is loaded at each start-up.
 *
 * @module
 */

import { Command, InvalidArgumentError, Option, readEnv, UsageError } from "./command.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { AdhashError, BadInputError, EXIT_CODES, IOError, withEnvHint } from "../errors.ts";
import { type AdhashConfig, loadConfig } from "../config/load.ts";
import { literal, log, logToFileOnly, setupLogging, shutdownLogging } from "../log/setup.ts";
import { removeTempFilesOnSignal, systemMessage } from "../io/atomic_write.ts";
import { stopWhenOrphaned } from "./parent_watch.ts";
import type { ErrorEnvelope } from "../contracts/error_envelope.ts";
import { type Mode, MODES } from "../core/factory.ts";
import { writeAllSync } from "../io/write_all.ts";
import { checkDistinctPaths, checkOutputFiles, clearReservedPaths, reservePaths } from "./paths.ts";

/** The package version printed by `--version`. */
export const VERSION: string = denoJson.version;

/** Global flags, available to every command. */
export interface GlobalOptions {
  mode: Mode;
  json: boolean;
  logJson: boolean;
  logFile: string | undefined;
  logMaxBytes: number;
  logBackupCount: number;
  config: string | undefined;
}

const encoder = new TextEncoder();

/** Writes text to stdout synchronously (complete before the process exits). */
export function writeStdout(text: string): void {
  writeStdoutBytes(encoder.encode(text));
}

/**
 * Writes bytes to stdout synchronously. A reader that went away (BrokenPipe) passes as it is, for
 * the caller to stop quietly; another failure of the system's (a full disk or a file-size limit
 * under `> file`) is IO naming stdout.
 */
export function writeStdoutBytes(bytes: Uint8Array): void {
  try {
    writeAllSync(Deno.stdout, bytes);
  } catch (err) {
    const os = err instanceof Deno.errors.BrokenPipe ? null : systemMessage(err);
    if (os === null) throw err;
    throw new IOError(`Cannot write to stdout: ${os}`, { cause: err });
  }
}

/**
 * Writes text to stderr synchronously, dropping it when stderr cannot take it: its reader is
 * gone (`run-csv ... 2>&1 | head -1`) or its disk is full (`2>>run.log`). A failure must still
 * exit with its own code, and a line for the person at the terminal must not fail the command.
 */
export function writeStderr(text: string): void {
  try {
    writeAllSync(Deno.stderr, encoder.encode(text));
  } catch {
    // Nowhere is left to say it; the exit code still does.
  }
}

/**
 * A line for the person at the terminal (progress, a URL) on stderr: as it is, or with
 * `--log-json` an info record of `category`, so that stderr stays JSON lines.
 */
export function notice(cmd: Command, category: string, text: string): void {
  if (!globalOptions(cmd).logJson) writeStderr(`${text}\n`);
  else log(category).info(literal(text));
}

/**
 * Refuses `flag` (option `key` of `cmd`) given on the command line when, for want of `needs`
 * (not `present`), it would do nothing: a mistake its user would otherwise never hear of. The same option from
 * its environment variable is let be, as one variable serves every run of a command.
 */
export function refuseUnused(
  cmd: Command,
  key: string,
  flag: string,
  needs: string,
  present: boolean,
): void {
  if (!present && cmd.source(key) === "cli") {
    throw new BadInputError(`${flag} is only used with ${needs}`, {
      hint: `Add ${needs}, or drop ${flag}`,
    });
  }
}

/** The global flags as seen from `cmd` (the command passed to an action). */
export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as Record<string, unknown>;
  return {
    mode: (o.mode as Mode | undefined) ?? "adaptive",
    json: o.json === true,
    logJson: o.logJson === true,
    logFile: o.logFile as string | undefined,
    logMaxBytes: (o.logMaxBytes as number | undefined) ?? 5_000_000,
    logBackupCount: (o.logBackupCount as number | undefined) ?? 5,
    config: o.config as string | undefined,
  };
}

let currentConfig: AdhashConfig | undefined;

/** The configuration loaded (and validated) before the running command's action. */
export function commandConfig(): AdhashConfig {
  if (currentConfig === undefined) throw new Error("commandConfig() called outside an action");
  return currentConfig;
}

/**
 * Prints a command's successful result: with `--json`, one stdout line
 * `{"ok":true,"command":"<name>",...data}`; otherwise `text` (default: the data as JSON).
 */
export function emitSuccess(
  cmd: Command,
  data: Record<string, unknown>,
  text?: string | (() => string),
): void {
  if (globalOptions(cmd).json) {
    writeStdout(`${JSON.stringify({ ok: true, command: cmd.name(), ...data })}\n`);
    return;
  }
  const out = typeof text === "function" ? text() : text ?? `${JSON.stringify(data, null, 2)}`;
  if (out !== "") writeStdout(out.endsWith("\n") ? out : `${out}\n`);
}

/** An option value parser accepting an integer in `[min, max]`. */
export function intArg(min: number, max: number): (value: string) => number {
  return (value: string): number => {
    const t = value.trim();
    const n = /^[+-]?\d+$/.test(t) ? Number(t) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`'${value}' is not an integer in [${min}, ${max}].`);
    }
    return n;
  };
}

/** An option value parser accepting a finite number in `[min, max]`. */
export function floatArg(min: number, max: number): (value: string) => number {
  return (value: string): number => {
    const t = value.trim();
    const n = t === "" ? NaN : Number(t);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`'${value}' is not a number in [${min}, ${max}].`);
    }
    return n;
  };
}

/** An option value parser for a TCP port 0-65535 or `auto` (returned as the string). */
export function portArg(value: string): number | "auto" {
  if (value.trim() === "auto") return "auto";
  return intArg(0, 65535)(value);
}

/** Converts anything thrown into an envelope and exit code. */
export function toEnvelope(err: unknown): { envelope: ErrorEnvelope; exitCode: number } {
  if (err instanceof AdhashError) {
    const envelope: ErrorEnvelope = { error: err.code, detail: err.message };
    if (err.hint !== undefined) envelope.hint = err.hint;
    return { envelope, exitCode: err.exitCode };
  }
  // NotCapable is Deno's permission system; PermissionDenied is the system's EACCES on a file.
  if (err instanceof Deno.errors.PermissionDenied) {
    return {
      envelope: {
        error: "IO",
        detail: (err as Error).message,
        hint: "The system refused access: check the permissions of the file and its directory",
      },
      exitCode: EXIT_CODES.IO,
    };
  }
  if (err instanceof Deno.errors.NotCapable) {
    return {
      envelope: {
        error: "Policy",
        detail: (err as Error).message,
        hint: "Grant the permission (deno run --allow-...) or choose another path",
      },
      exitCode: EXIT_CODES.Policy,
    };
  }
  if (
    err instanceof Deno.errors.NotFound || err instanceof Deno.errors.AlreadyExists ||
    err instanceof Deno.errors.IsADirectory || err instanceof Deno.errors.NotADirectory ||
    err instanceof Deno.errors.BrokenPipe || err instanceof Deno.errors.WriteZero ||
    err instanceof Deno.errors.UnexpectedEof ||
    (err instanceof Error && "code" in err && /^E[A-Z]+$/.test(String(err.code))) ||
    systemMessage(err) !== null
  ) {
    return {
      envelope: { error: "IO", detail: (err as Error).message },
      exitCode: EXIT_CODES.IO,
    };
  }
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return {
    envelope: {
      error: "Internal",
      detail,
      hint: "This is a bug; rerun with ADHASH_DEBUG=1 for the stack trace and report it",
    },
    exitCode: EXIT_CODES.Internal,
  };
}

function debugEnabled(): boolean {
  return readEnv("ADHASH_DEBUG") === "1";
}

/** Command registrars added by other modules (snapshot, serve, ...). */
export type Registrar = (program: Command) => void;

/** Builds the program with the global flags and the given command registrars. */
export function buildProgram(registrars: readonly Registrar[]): Command {
  const program = new Command("hashmap-cli");
  program
    .description("Adaptive hash map toolkit: generate and replay workloads, inspect maps")
    .version(VERSION, "-V, --version")
    .addOption(
      new Option("--mode <mode>", "map backend").choices(MODES).default("adaptive"),
    )
    .option("--json", "print the result as one JSON line on stdout")
    .option("--log-json", "write logs as JSON lines")
    .option("--log-file <path>", "also write logs to this rotating file")
    .option(
      "--log-max-bytes <n>",
      "rotate the log file at this size",
      intArg(1, Number.MAX_SAFE_INTEGER),
      5_000_000,
    )
    .option("--log-backup-count <n>", "rotated log files kept", intArg(0, 1000), 5)
    .addOption(new Option("--config <path>", "TOML config file").env("ADHASH_CONFIG"));
  for (const register of registrars) register(program);
  return program;
}

/** Commands whose outputs are configs: they may replace the global `--config` file. */
const CONFIG_WRITERS = new Set(["config-edit", "config-wizard"]);

/**
 * Runs the program on `args` (without the executable); returns the exit code. Every failure
 * is printed as the error envelope on the last stderr line.
 */
export async function runCli(args: string[], registrars: readonly Registrar[]): Promise<number> {
  const program = buildProgram(registrars);
  removeTempFilesOnSignal(); // an interrupted write leaves no hidden temporary file
  stopWhenOrphaned();
  let command = "hashmap-cli";
  try {
    const parsed = program.parse(args);
    if (parsed.kind === "help" || parsed.kind === "version") {
      writeStdout(parsed.text);
      return 0;
    }
    if (parsed.kind === "none") {
      writeStderr(program.helpText());
      throw new UsageError("no command given");
    }
    command = parsed.command.name();
    const g = globalOptions(parsed.command);
    const logFile = g.logFile !== undefined;
    refuseUnused(parsed.command, "logMaxBytes", "--log-max-bytes", "--log-file", logFile);
    refuseUnused(parsed.command, "logBackupCount", "--log-backup-count", "--log-file", logFile);
    checkOutputFiles([["--log-file", g.logFile]]);
    // The log is appended to and rotated (to FILE.1, FILE.2, ...) as the command runs: neither
    // it nor a backup may be a file the command reads or writes.
    const logs: Array<[string, string]> = g.logFile === undefined ? [] : [
      ["--log-file", g.logFile],
      ...Array.from(
        { length: g.logBackupCount },
        (_, i): [string, string] => [`--log-file's backup`, `${g.logFile}.${i + 1}`],
      ),
    ];
    for (const log of logs) {
      for (
        const role of [["--config", g.config] as [string, string | undefined], ...parsed.paths]
      ) {
        checkDistinctPaths([log, role]);
      }
    }
    clearReservedPaths();
    // Writing configs is what the config commands are for (an existing one only with --force).
    reservePaths([...logs, ["--config", CONFIG_WRITERS.has(command) ? undefined : g.config]]);
    await setupLogging({
      json: g.logJson,
      file: g.logFile,
      maxBytes: g.logMaxBytes,
      backupCount: g.logBackupCount,
      level: debugEnabled() ? "debug" : "info",
    });
    currentConfig = await withEnvHint(
      [[program.envSource("config"), g.config]],
      () => loadConfig(g.config),
    );
    const { overrides, source } = currentConfig;
    if (overrides.length > 0) {
      // They outrank the file, and a job's report names only the file.
      log("config").info(
        `${overrides.join(", ")} from the environment ${
          overrides.length === 1 ? "overrides" : "override"
        } ${source === null ? "the defaults" : "{source}"}`,
        { source },
      );
    }
    await parsed.run();
  } catch (err) {
    // A reader that stopped early (`items | head`): stop quietly, as Unix tools do.
    if (err instanceof Deno.errors.BrokenPipe) {
      await shutdownLogging().catch(() => {});
      return 0;
    }
    const { envelope, exitCode } = toEnvelope(err);
    // stderr gets the envelope; the log file, often all an operator has afterwards, gets it too.
    logToFileOnly(["cli"], "{command} failed (exit {exit_code}): {error}: {detail}", {
      command,
      exit_code: exitCode,
      ...envelope,
    });
    await shutdownLogging().catch(() => {});
    if (debugEnabled() && err instanceof Error && err.stack) writeStderr(`${err.stack}\n`);
    writeStderr(`${JSON.stringify(envelope)}\n`);
    return exitCode;
  }
  await shutdownLogging().catch(() => {});
  return 0;
}
