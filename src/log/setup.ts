/**
 * Structured logging for the CLI: `@logtape/logtape` records on stderr (text, or JSON lines with
 * `--log-json`), optionally also to a size-rotated file (`--log-file`).
 *
 * The stderr sink writes synchronously so that log lines can never appear after the error
 * envelope, which must be the last stderr line.
 *
 * @module
 */

import {
  configure,
  dispose,
  getLogger,
  getTextFormatter,
  jsonLinesFormatter,
  type Logger,
  type LogRecord,
  reset,
  type Sink,
  type TextFormatter,
} from "@logtape/logtape";

/** Options of {@linkcode setupLogging}. */
export interface LogOptions {
  /** JSON lines instead of text. */
  json: boolean;
  /** Also append to this file, rotating it at `maxBytes` and keeping `backupCount` old files. */
  file?: string | undefined;
  maxBytes?: number;
  backupCount?: number;
  /** Lowest level written; `info` unless ADHASH_DEBUG=1 (then `debug`). */
  level?: "debug" | "info" | "warning" | "error";
}

const encoder = new TextEncoder();

function stderrSink(formatter: TextFormatter): Sink {
  return (record: LogRecord) => {
    const bytes = encoder.encode(formatter(record));
    let off = 0;
    while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
  };
}

let configured = false;

/** Configures the `adhash` logger category; calling it again replaces the configuration. */
export async function setupLogging(options: LogOptions): Promise<void> {
  const formatter: TextFormatter = options.json ? jsonLinesFormatter : getTextFormatter({
    timestamp: "date-time-timezone",
  });
  const sinks: Record<string, Sink> = { stderr: stderrSink(formatter) };
  if (options.file !== undefined) {
    // Loaded only when asked for: most runs log to stderr alone.
    const { getRotatingFileSink } = await import("@logtape/file");
    sinks.file = getRotatingFileSink(options.file, {
      maxSize: options.maxBytes ?? 5_000_000,
      maxFiles: options.backupCount ?? 5,
      formatter,
    });
  }
  await configure({
    reset: true,
    sinks,
    loggers: [
      {
        category: ["adhash"],
        lowestLevel: options.level ?? "info",
        sinks: Object.keys(sinks),
      },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
  configured = true;
}

/** Flushes and closes the sinks (the rotating file). Safe to call when never configured. */
export async function shutdownLogging(): Promise<void> {
  if (!configured) return;
  configured = false;
  await dispose();
  await reset();
}

/** A logger under the `adhash` category, e.g. `log("replay")`. */
export function log(...category: string[]): Logger {
  return getLogger(["adhash", ...category]);
}
