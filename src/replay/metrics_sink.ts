/**
 * `--metrics-out-dir DIR`: metrics.v1 ticks as NDJSON in `DIR/metrics.ndjson`.
 *
 * Ticks stream into a temporary file beside the target (or, with `maxTicks`, into a ring of the
 * last N lines in memory); `stage()` completes and fsyncs it, and the staged file's `commit()`
 * renames it over `metrics.ndjson` (with the run's other outputs), so readers only ever see a
 * complete file from a finished run, and a new run replaces the old file in one step. `abort()` (a run that failed part-way) removes the temporary file and leaves any
 * previous `metrics.ndjson` untouched.
 *
 * @module
 */

import type { MetricsTick } from "../contracts/metrics.ts";
import {
  creationMode,
  keepOwnership,
  makeDirs,
  removeDirs,
  type StagedFile,
  stagedFile,
  stageFile,
  tempPathFor,
  writeError,
  writeTarget,
} from "../io/atomic_write.ts";
import { joinPath, withoutDots } from "../io/path.ts";
import { encodeLines, writeAllSync } from "../io/write_all.ts";

const encoder = new TextEncoder();

/** Writes ticks to `DIR/metrics.ndjson` atomically. */
export class MetricsNdjsonWriter {
  /** Final path of the NDJSON file. */
  readonly path: string;
  readonly #maxTicks: number;
  #file: Deno.FsFile | null = null;
  #tmp: string | null = null;
  #target: string;
  /** The directories made for the file, deepest first: a failed run removes them if empty. */
  #madeDirs: string[] = [];
  #buffer: string[] = [];
  #buffered = 0;
  #ring: string[] = [];
  #ringStart = 0;
  /** Ticks written (before any `maxTicks` trimming). */
  count = 0;

  private constructor(path: string, maxTicks: number) {
    this.path = path;
    this.#target = path;
    this.#maxTicks = maxTicks;
  }

  /**
   * Creates `dir` if needed and prepares the temporary file. `maxTicks` 0 keeps every tick.
   *
   * The file operations here and in {@linkcode commit} are synchronous: the slowest, the fsync
   * of a 1M-row run's 2 MB, takes 1-2.5 ms, while an asynchronous call waits for a thread-pool
   * wake-up as well, which cost 1-9 ms apiece after a replay on a busy 2-core machine (commit:
   * 11-15 ms -> ~3 ms).
   */
  static open(spelledDir: string, maxTicks = 0): MetricsNdjsonWriter {
    // `.` and `..` resolved here: Deno resolves them before some calls and not others when its
    // permissions are scoped, so `a/b/..` would be made as `a` and then looked for as `a/b/..`.
    const dir = withoutDots(spelledDir);
    const made = makeDirs(dir);
    const w = new MetricsNdjsonWriter(joinPath(dir, "metrics.ndjson"), maxTicks);
    w.#madeDirs = made;
    try {
      w.#target = writeTarget(w.path);
      if (maxTicks === 0) {
        w.#tmp = tempPathFor(w.#target);
        w.#file = Deno.openSync(w.#tmp, {
          write: true,
          createNew: true,
          mode: creationMode(w.#target),
        });
        keepOwnership(w.#tmp, w.#target);
      }
    } catch (err) {
      w.abort();
      throw writeError(w.path, err);
    }
    return w;
  }

  /** Adds one tick (one line). */
  write(tick: MetricsTick): void {
    const line = `${JSON.stringify(tick)}\n`;
    this.count++;
    if (this.#maxTicks > 0) {
      if (this.#ring.length < this.#maxTicks) this.#ring.push(line);
      else {
        this.#ring[this.#ringStart] = line;
        this.#ringStart = (this.#ringStart + 1) % this.#maxTicks;
      }
      return;
    }
    this.#buffer.push(line);
    this.#buffered += line.length;
    if (this.#buffered >= 1 << 18) this.#flush();
  }

  #flush(): void {
    if (this.#file === null || this.#buffer.length === 0) return;
    const bytes = encoder.encode(this.#buffer.join(""));
    this.#buffer = [];
    this.#buffered = 0;
    try {
      writeAllSync(this.#file, bytes);
    } catch (err) {
      throw writeError(this.path, err); // e.g. a full disk: name the output, not the temporary
    }
  }

  /** Completes and fsyncs the file; its `commit()` renames it over `metrics.ndjson`. */
  async stage(): Promise<StagedFile> {
    if (this.#maxTicks > 0) return await stageFile(this.path, this.#ringChunks(), this.#madeDirs);
    const file = this.#file!;
    this.#flush();
    try {
      file.syncSync();
    } catch (err) {
      throw writeError(this.path, err);
    }
    file.close();
    this.#file = null;
    const staged = stagedFile(this.path, this.#tmp!, this.#target, this.#madeDirs);
    this.#tmp = null;
    return staged;
  }

  /** The kept lines, oldest first. */
  #ringChunks(): Generator<Uint8Array> {
    const start = this.#ringStart;
    return encodeLines([this.#ring.slice(start), this.#ring.slice(0, start)].flat());
  }

  /** Discards everything written; an existing `metrics.ndjson` is left as it was. */
  abort(): void {
    this.#ring = [];
    this.#buffer = [];
    if (this.#file !== null) {
      try {
        this.#file.close();
      } catch {
        // already closed
      }
      this.#file = null;
    }
    if (this.#tmp !== null) {
      stagedFile(this.path, this.#tmp).discard();
      this.#tmp = null;
    }
    removeDirs(this.#madeDirs);
    this.#madeDirs = [];
  }
}
