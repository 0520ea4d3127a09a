/**
 * Structured logging for the CLI: `@logtape/logtape` records on stderr (text, or JSON lines with
 * `--log-json`), optionally also to a size-rotated file (`--log-file`).
 *
 * The stderr sink writes synchronously so that log lines can never appear after the error
 * envelope, which must be the last stderr line.
 *
 * logtape is loaded when the first record is logged, not at start-up: most runs log nothing,
 * and loading it (with the `node:util` polyfill it pulls in) costs ~9 ms of every command's
 * start-up. Records logged while it loads wait in a queue and are written, in order and with
 * the time they were logged, as soon as it is ready; {@linkcode shutdownLogging} waits for
 * them. With `--log-file` it is loaded at set-up, as the file sink opens its file then.
 *
 * @module
 */

import type { LogRecord, Sink, TextFormatter } from "@logtape/logtape";

type Logtape = typeof import("@logtape/logtape");

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

/** Levels adhash logs at, lowest first. */
type Level = "debug" | "info" | "warning" | "error";
const RANK: Record<Level, number> = { debug: 0, info: 1, warning: 2, error: 3 };

/** A logger under the `adhash` category (the part of logtape's `Logger` adhash uses). */
export interface Log {
  debug(message: string, properties?: Record<string, unknown>): void;
  info(message: string, properties?: Record<string, unknown>): void;
  warn(message: string, properties?: Record<string, unknown>): void;
  error(message: string, properties?: Record<string, unknown>): void;
}

interface Queued {
  category: string[];
  level: Level;
  message: string;
  properties: Record<string, unknown> | undefined;
  timestamp: number;
}

const encoder = new TextEncoder();

function writeStderr(text: string): void {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
}

/** The options of the last {@linkcode setupLogging}; null when logging is not set up. */
let options: LogOptions | null = null;
/** logtape, once loaded and configured with {@linkcode options}. */
let active: Logtape | null = null;
/** Loading and configuring under way, if any. */
let activating: Promise<void> | null = null;
const queue: Queued[] = [];
/** The time of the queued record being written, which the sinks put on it. */
let replayedAt: number | null = null;

function withQueuedTime(sink: Sink): Sink {
  return (record: LogRecord) =>
    sink(replayedAt === null ? record : { ...record, timestamp: replayedAt });
}

async function configureLogtape(lib: Logtape, o: LogOptions): Promise<void> {
  const formatter: TextFormatter = o.json
    ? lib.jsonLinesFormatter
    : lib.getTextFormatter({ timestamp: "date-time-timezone" });
  const sinks: Record<string, Sink> = {
    stderr: withQueuedTime((record) => writeStderr(formatter(record))),
  };
  if (o.file !== undefined) {
    // Not wrapped: dispose() flushes this sink through its own Symbol.dispose, and records
    // are never queued when there is a log file (logtape is loaded at set-up).
    const { getRotatingFileSink } = await import("@logtape/file");
    sinks.file = getRotatingFileSink(o.file, {
      maxSize: o.maxBytes ?? 5_000_000,
      maxFiles: o.backupCount ?? 5,
      formatter,
    });
  }
  await lib.configure({
    reset: true,
    sinks,
    loggers: [
      { category: ["adhash"], lowestLevel: o.level ?? "info", sinks: Object.keys(sinks) },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

function write(lib: Logtape, q: Omit<Queued, "timestamp">): void {
  const logger = lib.getLogger(["adhash", ...q.category]);
  if (q.level === "warning") logger.warn(q.message, q.properties);
  else logger[q.level](q.message, q.properties);
}

/** Loads and configures logtape, then writes the queued records. */
async function activate(o: LogOptions): Promise<void> {
  try {
    const lib = await import("@logtape/logtape");
    await configureLogtape(lib, o);
    active = lib;
    for (const q of queue.splice(0)) {
      replayedAt = q.timestamp;
      try {
        write(lib, q);
      } finally {
        replayedAt = null;
      }
    }
  } catch (err) {
    // Nothing is lost: the records go out unformatted, with the reason.
    writeStderr(`adhash: logging unavailable (${err})\n`);
    for (const q of queue.splice(0)) {
      writeStderr(`${new Date(q.timestamp).toISOString()} ${q.level} ${q.message}\n`);
    }
  } finally {
    activating = null;
  }
}

function record(category: string[], level: Level, message: string, properties?: object): void {
  const props = properties as Record<string, unknown> | undefined;
  if (active !== null) {
    write(active, { category, level, message, properties: props });
    return;
  }
  const o = options;
  if (o === null || RANK[level] < RANK[o.level ?? "info"]) return;
  queue.push({ category, level, message, properties: props, timestamp: Date.now() });
  activating ??= activate(o);
}

/**
 * Sets up logging for the `adhash` category; calling it again replaces the configuration.
 * logtape itself loads at the first record (at once with a log file).
 */
export async function setupLogging(o: LogOptions): Promise<void> {
  if (activating !== null) await activating;
  options = o;
  if (active !== null || o.file !== undefined) {
    const lib = active ?? await import("@logtape/logtape");
    await configureLogtape(lib, o);
    active = lib;
  }
}

/**
 * Writes any records still queued, then flushes and closes the sinks (the rotating file).
 * Safe to call when never set up.
 */
export async function shutdownLogging(): Promise<void> {
  if (activating !== null) await activating;
  options = null;
  if (active === null) return;
  const lib = active;
  active = null;
  await lib.dispose();
  await lib.reset();
}

/** Whether logtape has been loaded and configured (it is not until the first record). */
export function loggingActive(): boolean {
  return active !== null;
}

/** A logger under the `adhash` category, e.g. `log("replay")`. */
export function log(...category: string[]): Log {
  return {
    debug: (message, properties) => record(category, "debug", message, properties),
    info: (message, properties) => record(category, "info", message, properties),
    warn: (message, properties) => record(category, "warning", message, properties),
    error: (message, properties) => record(category, "error", message, properties),
  };
}
