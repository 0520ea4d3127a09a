/**
 * `validate-metrics FILE` (alias `validate-metrics-ndjson`): checks every line of a metrics.v1
 * NDJSON file. Problems are printed to stderr as `[invalid line N] <path>: <message>`; the
 * command then fails with BadInput (exit 2).
 *
 * @module
 */

import { visible } from "../../format.ts";
import type { Command } from "../command.ts";
import { BadInputError, IOError } from "../../errors.ts";
import type { LineProblem } from "../../contracts/validate_metrics.ts";
import { emitSuccess, writeStderr } from "../program.ts";

/** At most this many problem lines are printed. */
export const MAX_REPORTED = 100;
/**
 * Longer lines are reported, not read whole (a metrics.v1 tick takes a few KB): the limit past
 * which `serve --source` skips a line (src/server/source.ts), in bytes as there.
 */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

/** The file's lines; null for a line longer than {@linkcode MAX_LINE_BYTES}. */
async function* lines(path: string): AsyncGenerator<string | null> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new IOError(`Metrics file not found: '${path}'`);
    }
    throw err;
  }
  if ((await file.stat()).isDirectory) {
    file.close();
    throw new BadInputError(`Metrics path '${path}' is a directory`, {
      hint: "Name a metrics.ndjson file (run-csv writes DIR/metrics.ndjson)",
    });
  }
  const decoder = new TextDecoder();
  // The line read so far in pieces: each chunk is searched once, however long the line.
  const pieces: string[] = [];
  let length = 0;
  // A UTF-16 unit takes at most 3 bytes: only a line of over a third of the limit in units is
  // encoded to count its bytes.
  const line = (last: string): string | null => {
    const text = length + last.length > MAX_LINE_BYTES ? null : pieces.join("") + last;
    pieces.length = 0;
    length = 0;
    if (text === null || text.length <= MAX_LINE_BYTES / 3) return text;
    return new TextEncoder().encode(text).length > MAX_LINE_BYTES ? null : text;
  };
  try {
    for await (const chunk of file.readable) {
      const text = decoder.decode(chunk, { stream: true });
      let from = 0;
      let nl: number;
      while ((nl = text.indexOf("\n", from)) >= 0) {
        yield line(text.slice(from, nl));
        from = nl + 1;
      }
      if (length <= MAX_LINE_BYTES) pieces.push(text.slice(from)); // past it, only counted
      length += text.length - from;
    }
  } finally {
    try {
      file.close();
    } catch {
      // closed by the stream
    }
  }
  const last = line(decoder.decode());
  if (last !== "") yield last;
}

/** Validates `path`; returns the number of ticks and the problems. */
async function validateMetricsFile(
  path: string,
): Promise<
  {
    ticks: number;
    lines: number;
    problems: LineProblem[];
    problemCount: number;
    invalidLines: number;
  }
> {
  // zod loads with the command that needs it, not with every command.
  const { validateTickLine } = await import("../../contracts/validate_metrics.ts");
  const state = { lastOps: 0, lastT: 0 };
  const problems: LineProblem[] = [];
  let problemCount = 0;
  const report = (found: LineProblem[]): void => {
    problemCount += found.length;
    problems.push(...found.slice(0, MAX_REPORTED - problems.length));
  };
  let n = 0;
  let ticks = 0;
  let invalidLines = 0;
  for await (const raw of lines(path)) {
    n++;
    if (raw === null) {
      invalidLines++;
      report([{ line: n, path: "", message: `longer than ${MAX_LINE_BYTES} bytes` }]);
      continue;
    }
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text.trim() === "") {
      invalidLines++;
      report([{ line: n, path: "", message: "blank line" }]);
      continue;
    }
    const found = validateTickLine(text, n, state);
    if (found.length > 0) {
      invalidLines++;
      report(found);
    } else ticks++;
  }
  if (n === 0) report([{ line: 0, path: "", message: "no metrics.v1 lines" }]);
  return { ticks, lines: n, problems, problemCount, invalidLines };
}

/** Registers `validate-metrics` and its alias. */
export function registerValidateMetricsCommand(program: Command): void {
  program.command("validate-metrics")
    .alias("validate-metrics-ndjson")
    .description("Validate a metrics.v1 NDJSON file (schema, percentile order, monotonic ticks)")
    .argument("<file>", "metrics.ndjson")
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const r = await validateMetricsFile(file);
      if (r.problemCount > 0) {
        for (const p of r.problems) {
          // A metrics file's keys and bad lines are data: nothing may act on the terminal.
          writeStderr(
            p.line === 0
              ? `[invalid file] ${visible(p.message)}\n`
              : `[invalid line ${p.line}] ${
                visible(`${p.path === "" ? "" : `${p.path}: `}${p.message}`)
              }\n`,
          );
        }
        if (r.problemCount > r.problems.length) {
          writeStderr(`... ${r.problemCount - r.problems.length} more problems\n`);
        }
        throw new BadInputError(
          r.lines === 0
            ? `Metrics file '${file}' is empty`
            : `${r.invalidLines} of ${r.lines} lines of '${file}' are not valid metrics.v1`,
          { hint: "See docs/metrics_schema.md" },
        );
      }
      emitSuccess(
        cmd,
        { file, ticks: r.ticks, valid: true },
        `OK: ${r.ticks} metrics.v1 ticks valid in ${file}`,
      );
    });
}
