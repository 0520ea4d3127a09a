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
 * the time they were logged, as soon as it is ready (see {@linkcode loggingPending});
 * {@linkcode shutdownLogging} waits for them. With `--log-file` it is loaded at set-up, as the
 * file sink opens its file then. Without {@linkcode setupLogging} (adhash used as a library)
 * records go to logtape as the host application configured it; a record queued while logtape
 * loads then carries the time it is written.
 *
 * @module
 */

import type { LogRecord, Sink, TextFormatter } from "@logtape/logtape";
import { writeError } from "../io/atomic_write.ts";
import { dirOf } from "../io/path.ts";
import { writeAllSync } from "../io/write_all.ts";

type Logtape = typeof import("@logtape/logtape");

/** Levels adhash logs at, lowest first. */
type Level = "debug" | "info" | "warning" | "error";
const RANK: Record<Level, number> = { debug: 0, info: 1, warning: 2, error: 3 };

/** Options of {@linkcode setupLogging}. */
export interface LogOptions {
  /** JSON lines instead of text. */
  json: boolean;
  /** Also append to this file, rotating it at `maxBytes` and keeping `backupCount` old files. */
  file?: string | undefined;
  maxBytes?: number;
  backupCount?: number;
  /** Lowest level written; `info` unless ADHASH_DEBUG=1 (then `debug`). */
  level?: Level;
}

/** A logger under the `adhash` category (the part of logtape's `Logger` adhash uses). */
export interface Log {
  debug(message: string, properties?: Record<string, unknown>): void;
  info(message: string, properties?: Record<string, unknown>): void;
  warn(message: string, properties?: Record<string, unknown>): void;
  error(message: string, properties?: Record<string, unknown>): void;
}

/** `text` as a log message that logs itself: its braces are no placeholders. */
export function literal(text: string): string {
  return text.replaceAll("{", "{{").replaceAll("}", "}}");
}

/** A record waiting for logtape. */
export interface Queued {
  category: string[];
  level: Level;
  message: string;
  properties: Record<string, unknown> | undefined;
  timestamp: number;
  /** For the log file only ({@linkcode logToFileOnly}). */
  fileOnly?: boolean;
}

const encoder = new TextEncoder();

function writeStderr(text: string): void {
  writeAllSync(Deno.stderr, encoder.encode(text));
}

/**
 * The options of the last {@linkcode setupLogging}; null when adhash has not set logging up
 * (library use: records go to logtape as the host application configured it, if at all).
 */
let options: LogOptions | null = null;
/** logtape, once loaded. */
let lib: Logtape | null = null;
/** Whether `lib` carries adhash's own sinks (configured by {@linkcode setupLogging}). */
let ours = false;
/**
 * Loading, configuring or shutting down under way, if any. These run one after another, and
 * records logged meanwhile wait in `queue`.
 */
let busy: Promise<void> | null = null;
/** Set when logtape could not be loaded: records are then written unformatted. */
let failed = false;
const queue: Queued[] = [];
/** The time of the queued record being written, which adhash's sinks put on it. */
let replayedAt: number | null = null;

function withQueuedTime(sink: Sink): Sink {
  return (record: LogRecord) =>
    sink(replayedAt === null ? record : { ...record, timestamp: replayedAt });
}

/**
 * Set while a record meant for the log file only is being written (see
 * {@linkcode logToFileOnly}): the stderr sink skips it.
 */
let fileOnly = false;

/** A sink that can be closed; logtape's dispose() calls `Symbol.dispose`. */
type ClosableSink = Sink & Disposable;

/**
 * Appends each record to `path` as it is logged, rotating before a record would take the file
 * past `maxBytes` (`path.1` newest ... `path.<backups>`; 0 backups truncates instead).
 *
 * Written unbuffered and without fsync: a record is in the kernel once logged, so it survives
 * SIGKILL or the OOM killer, and a quiet server's last lines are never held in memory. A record
 * longer than `maxBytes` gets a file of its own; an empty file is never rotated.
 */
function rotatingFileSink(
  path: string,
  maxBytes: number,
  backups: number,
  formatter: TextFormatter,
): ClosableSink {
  // A new file after a rotation takes the old one's mode: a log made private stays private.
  const open = (mode?: number): Deno.FsFile =>
    Deno.openSync(path, { create: true, append: true, ...(mode === undefined ? {} : { mode }) });
  let file: Deno.FsFile | null = open();
  let size = file.statSync().size;
  const rotate = (f: Deno.FsFile): Deno.FsFile => {
    const mode = f.statSync().mode;
    f.close();
    if (backups === 0) {
      Deno.truncateSync(path, 0);
    } else {
      for (let i = backups - 1; i >= 1; i--) {
        try {
          Deno.renameSync(`${path}.${i}`, `${path}.${i + 1}`);
        } catch (err) {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        }
      }
      Deno.renameSync(path, `${path}.1`);
    }
    size = 0;
    return open(mode === null ? undefined : mode & 0o777);
  };
  const sink = ((record: LogRecord) => {
    if (file === null) return;
    const bytes = encoder.encode(formatter(record));
    try {
      if (size > 0 && size + bytes.length > maxBytes) file = rotate(file);
      writeAllSync(file, bytes);
      size += bytes.length;
    } catch (err) {
      // A full disk or a removed directory: said once, then the file is left alone. The command
      // goes on (stderr still has the log), as it would have without --log-file.
      try {
        file?.close();
      } catch { /* already closed */ }
      file = null;
      writeStderr(
        `adhash: cannot write the log file '${path}': ${(err as Error).message}; ` +
          "logging to it stops\n",
      );
    }
  }) as ClosableSink;
  sink[Symbol.dispose] = () => {
    file?.close();
    file = null;
  };
  return sink;
}

async function configureLogtape(l: Logtape, o: LogOptions): Promise<void> {
  const formatter: TextFormatter = o.json
    ? l.jsonLinesFormatter
    // A line per record: a newline or an escape sequence in logged text (a metrics file's bad
    // line, say) shown escaped, so it cannot forge a record or restyle the terminal.
    : l.getTextFormatter({
      timestamp: "date-time-timezone",
      sanitize: { newlines: "escape", sgr: "escape" },
    });
  const sinks: Record<string, Sink> = {
    stderr: withQueuedTime((record) => {
      if (!fileOnly) writeStderr(formatter(record));
    }),
  };
  if (o.file !== undefined) {
    let file: ClosableSink;
    try {
      Deno.mkdirSync(dirOf(o.file), { recursive: true });
      file = rotatingFileSink(o.file, o.maxBytes ?? 5_000_000, o.backupCount ?? 5, formatter);
    } catch (err) {
      // Named as every output is: the system's own message names no file at all for some
      // errors (`File name too long (os error 36)`).
      throw writeError(o.file, err);
    }
    // Wrapped for the queued time, keeping the file's close for logtape's dispose().
    sinks.file = Object.assign(withQueuedTime(file), { [Symbol.dispose]: file[Symbol.dispose] });
  }
  await l.configure({
    reset: true,
    sinks,
    loggers: [
      { category: ["adhash"], lowestLevel: o.level ?? "info", sinks: Object.keys(sinks) },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

function write(l: Logtape, q: Omit<Queued, "timestamp">): void {
  const logger = l.getLogger(["adhash", ...q.category]);
  fileOnly = q.fileOnly === true;
  try {
    if (q.level === "warning") logger.warn(q.message, q.properties);
    else logger[q.level](q.message, q.properties);
  } finally {
    fileOnly = false;
  }
}

function writeUnformatted(q: Queued): void {
  writeStderr(plainRecord(q));
}

/**
 * A record as plain text, for when logtape cannot be loaded (out of file descriptors, say):
 * placeholders filled in with their values as JSON, other properties after.
 */
export function plainRecord(q: Queued): string {
  const props: Record<string, unknown> = q.properties ?? {};
  const used = new Set<string>();
  const message = q.message.replace(/\{(\w+)\}/g, (whole, name: string) => {
    if (!(name in props)) return whole;
    used.add(name);
    return JSON.stringify(props[name]) ?? String(props[name]);
  });
  const rest = Object.entries(props).filter(([k]) => !used.has(k));
  const after = rest.length === 0 ? "" : ` ${JSON.stringify(Object.fromEntries(rest))}`;
  return `${new Date(q.timestamp).toISOString()} ${q.level} adhash.${q.category.join(".")}: ` +
    `${message}${after}\n`;
}

/** Runs `task` after whatever is under way, then writes the records queued meanwhile. */
function serialized(task: () => Promise<void>): Promise<void> {
  // A step that failed has told its own caller; the next one runs regardless.
  const run = (busy ?? Promise.resolve()).catch(() => {}).then(task).then(drain);
  const tracked: Promise<void> = run.finally(() => {
    if (busy !== tracked) return;
    busy = null;
    // A record logged after the drain, before this callback, still has to be written.
    if (queue.length > 0) serialized(() => Promise.resolve());
  });
  busy = tracked;
  return tracked;
}

/** Writes the queued records, loading (and, when adhash set logging up, configuring) logtape. */
async function drain(): Promise<void> {
  if (queue.length === 0) return;
  try {
    lib ??= await import("@logtape/logtape");
    if (options !== null && !ours) {
      await configureLogtape(lib, options);
      ours = true;
    }
  } catch (err) {
    // Nothing is lost: the records go out unformatted, with the reason.
    failed = true;
    writeStderr(`adhash: logging unavailable (${err})\n`);
    while (queue.length > 0) writeUnformatted(queue.shift()!);
    return;
  }
  // One at a time: a sink may log again, and that record joins the queue.
  while (queue.length > 0) {
    const q = queue.shift()!;
    replayedAt = q.timestamp;
    try {
      write(lib, q);
    } finally {
      replayedAt = null;
    }
  }
}

function record(
  category: string[],
  level: Level,
  message: string,
  properties?: object,
  toFileOnly = false,
): void {
  const props = properties as Record<string, unknown> | undefined;
  const only = toFileOnly ? { fileOnly: true } : {};
  if (lib !== null && busy === null) {
    write(lib, { category, level, message, properties: props, ...only });
    return;
  }
  const o = options;
  if (o !== null && RANK[level] < RANK[o.level ?? "info"]) return;
  const q: Queued = { category, level, message, properties: props, timestamp: Date.now(), ...only };
  if (failed) {
    if (o !== null && !toFileOnly) writeUnformatted(q);
    return;
  }
  queue.push(q);
  if (busy === null) serialized(() => Promise.resolve());
}

/**
 * Sets up logging for the `adhash` category; calling it again replaces the configuration.
 * logtape itself loads at the first record (at once with a log file).
 */
export function setupLogging(o: LogOptions): Promise<void> {
  options = o;
  return serialized(async () => {
    if (lib === null && o.file === undefined) return;
    lib ??= await import("@logtape/logtape");
    await configureLogtape(lib, o);
    ours = true;
  });
}

/**
 * Writes any records still queued, then flushes and closes the sinks (the rotating file).
 * Safe to call when never set up.
 */
export function shutdownLogging(): Promise<void> {
  return serialized(async () => {
    await drain();
    options = null;
    if (lib === null || !ours) return;
    ours = false;
    await lib.dispose();
    await lib.reset();
  });
}

/** Whether logtape has been loaded (not until the first record, or a set-up with a log file). */
export function logtapeLoaded(): boolean {
  return lib !== null;
}

/**
 * While logged records wait for logtape to load, a promise that settles once they are
 * written; otherwise undefined. Loading needs the event loop: code that keeps it busy for long
 * (a replay reading its file synchronously) awaits this between stretches of work, so records
 * such as watchdog warnings appear while the run goes on, not at its end.
 */
export function loggingPending(): Promise<void> | undefined {
  return busy ?? undefined;
}

/**
 * Logs an error record to the `--log-file` only, for what the caller also reports on stderr
 * another way (the error envelope of a command that failed): the file then tells the whole
 * story without the terminal showing it twice. Does nothing without a log file.
 */
export function logToFileOnly(
  category: string[],
  message: string,
  properties?: Record<string, unknown>,
): void {
  if (options?.file === undefined) return;
  record(category, "error", message, properties, true);
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
