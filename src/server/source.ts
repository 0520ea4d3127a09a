/**
 * Feeds a hub from a `metrics.v1` NDJSON file, optionally following it like `tail -F`: appended
 * lines are picked up, a bad or truncated line is skipped with a warning, and a rotated file
 * (new inode, or a size smaller than what was already read) is read again from its start.
 *
 * @module
 */

import { prefix } from "../format.ts";
import { checkDelay } from "./delay.ts";
import { literal, log } from "../log/setup.ts";
import { readFull } from "../io/read_full.ts";
import { checkTickLine } from "../contracts/validate_metrics.ts";
import type { MetricsHub } from "./hub.ts";
import { messageOf } from "../errors.ts";

/** Options of {@linkcode followSource}. */
export interface FollowSourceOptions {
  /** Keep reading appended lines until stopped (default false: read once and finish). */
  follow?: boolean;
  /** How often a followed file is checked, in milliseconds (default 250). */
  pollMs?: number;
  /** Called for each skipped line or rotation; defaults to a logged warning. */
  onWarning?: (message: string) => void;
}

/** A running source reader. */
export interface SourceHandle {
  /** Resolves when reading stops (end of file without `follow`, or after `stop()`). */
  done: Promise<void>;
  /** Stops following; resolves once the reader has stopped. */
  stop(): Promise<void>;
  /** Ticks published so far. */
  readonly published: number;
  /** Lines skipped so far. */
  readonly skipped: number;
}

const MAX_LINE_BYTES = 4 * 1024 * 1024;

/** Starts reading `path` into `hub`. Throws `Deno.errors.NotFound` if the file is missing. */
export async function followSource(
  path: string,
  hub: MetricsHub,
  options: FollowSourceOptions = {},
): Promise<SourceHandle> {
  const logger = log("server", "source");
  // A bad line's text is in the message: its braces are no placeholders.
  const warn = options.onWarning ?? ((m: string) => logger.warn(literal(m)));
  const pollMs = checkDelay("pollMs", options.pollMs ?? 250);
  const follow = options.follow ?? false;
  await Deno.stat(path); // fail early and clearly on a missing file

  let stopped = false;
  let wake: (() => void) | null = null;
  let published = 0;
  let skipped = 0;
  let offset = 0;
  let ino: number | null = null;
  let born: number | null = null;
  /** The file's first bytes as read (up to 4 KiB): a file rewritten in place starts otherwise. */
  let head: Uint8Array = new Uint8Array(0);
  let lineNo = 0;
  let partial = new Uint8Array(0);
  /** Inside a line already skipped as too long: its bytes up to the next newline are dropped. */
  let discarding = false;
  const decoder = new TextDecoder();

  const tooLong = (): void => {
    skipped++;
    warn(`skipping line ${lineNo} of ${path}: longer than ${MAX_LINE_BYTES} bytes`);
  };

  const handleLine = (bytes: Uint8Array): void => {
    lineNo++;
    if (bytes.length > MAX_LINE_BYTES) return tooLong();
    const text = decoder.decode(bytes).trim();
    if (text === "") return;
    // validate-metrics' own checks, so that the server never serves a tick it would reject (a
    // repeated `le` bucket becomes duplicate Prometheus samples). Each tick is checked alone:
    // ops or t going back is a new run written to the file, which Prometheus takes as a reset.
    const { tick, problems } = checkTickLine(text, lineNo, {
      lastOps: -Infinity,
      lastT: -Infinity,
    });
    if (tick === null) {
      skipped++;
      const first = problems[0]!;
      warn(
        first.path === "" && first.message.startsWith("not JSON")
          ? `skipping line ${lineNo} of ${path}: not valid JSON (${prefix(text, 40)})`
          : `skipping line ${lineNo} of ${path}: not a metrics.v1 tick (${
            first.path || "(root)"
          }: ${first.message})`,
      );
      return;
    }
    published++;
    hub.publish(tick);
  };

  /** Splits `chunk` (read after `partial`) into lines; keeps an unfinished line in `partial`. */
  const take = (chunk: Uint8Array): void => {
    let start = 0;
    if (discarding) {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) return;
      discarding = false;
      start = nl + 1;
    }
    if (partial.length > 0) {
      const merged = new Uint8Array(partial.length + chunk.length - start);
      merged.set(partial);
      merged.set(chunk.subarray(start), partial.length);
      chunk = merged;
      start = 0;
    }
    for (let nl = chunk.indexOf(0x0a, start); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      handleLine(chunk.subarray(start, nl));
      start = nl + 1;
    }
    partial = chunk.slice(start);
    if (partial.length > MAX_LINE_BYTES) {
      // Warned about once, here; the rest of the line is dropped as it arrives, so the lines
      // after it keep their numbers.
      lineNo++;
      tooLong();
      partial = new Uint8Array(0);
      discarding = true;
    }
  };

  const readNew = async (): Promise<void> => {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch {
      return; // between rotate and re-create: try again on the next poll
    }
    if (!info.isFile) throw new Error("not a regular file");
    const birth = info.birthtime?.getTime() ?? null;
    // A new inode, or the old one reused (a new birth time), or a file cut shorter.
    let rotated = (ino !== null && info.ino !== ino) || (born !== null && birth !== born) ||
      info.size < offset;
    const file = info.size > offset || rotated ? await Deno.open(path, { read: true }) : null;
    try {
      // Truncated and written again past the offset between two polls: its start tells.
      if (!rotated && file !== null && head.length > 0) {
        rotated = !sameBytes(await readFull(file, new Uint8Array(head.length)), head);
      }
      if (rotated) {
        if (partial.length > 0) {
          skipped++;
          warn(`skipping truncated line ${lineNo + 1} of ${path} (file rotated)`);
        }
        warn(`${path} was rotated or truncated; reading it from the start`);
        offset = 0;
        lineNo = 0;
        partial = new Uint8Array(0);
        discarding = false;
        head = new Uint8Array(0);
      }
      ino = info.ino;
      born = birth;
      if (file === null || info.size <= offset) return;
      await file.seek(offset, Deno.SeekMode.Start);
      const want = info.size - offset;
      const buf = new Uint8Array(Math.min(want, 1 << 20));
      let got = 0;
      while (got < want) {
        const n = await file.read(buf);
        if (n === null || n === 0) break;
        got += n;
        take(buf.subarray(0, n));
      }
      offset += got;
      if (head.length < Math.min(offset, HEAD_BYTES)) {
        await file.seek(0, Deno.SeekMode.Start);
        head = await readFull(file, new Uint8Array(Math.min(offset, HEAD_BYTES)));
      }
    } finally {
      file?.close();
    }
  };

  const run = async (): Promise<void> => {
    let failing: string | null = null; // told once, not at every poll
    while (!stopped) {
      try {
        await readNew();
        if (failing !== null) warn(`reading ${path} again`);
        failing = null;
      } catch (err) {
        const message = messageOf(err);
        if (message !== failing) warn(`reading ${path} failed: ${message}`);
        failing = message;
      }
      if (!follow) break;
      await new Promise<void>((resolve) => {
        const id = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(id);
          resolve();
        };
      });
      wake = null;
    }
    // A last line without a newline is complete once the file is no longer being written.
    if (!follow && partial.length > 0) {
      handleLine(partial);
      partial = new Uint8Array(0);
    }
  };

  const done = run();
  return {
    done,
    async stop(): Promise<void> {
      stopped = true;
      (wake as (() => void) | null)?.();
      await done;
    },
    get published(): number {
      return published;
    },
    get skipped(): number {
      return skipped;
    },
  };
}

/** Bytes of a followed file kept to recognise it. */
const HEAD_BYTES = 4096;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
