/**
 * Writing every byte: `write()` and `writeSync()` may write fewer bytes than given (a pipe, a
 * signal, a full buffer), so a single call can cut an output short in silence.
 *
 * @module
 */

/** Writes all of `bytes` to `w`, calling `write()` until none is left. */
export async function writeAll(
  w: { write(p: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await w.write(bytes.subarray(off));
}

/** Writes all of `bytes` to `w`, calling `writeSync()` until none is left. */
export function writeAllSync(w: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += w.writeSync(bytes.subarray(off));
}

const encoder = new TextEncoder();

/**
 * `lines` as UTF-8, 4096 at a time (for a staged file or stdout): one string of a whole
 * listing or of a long run's ticks takes another copy of its memory, and can pass V8's string
 * length limit.
 */
export function* encodeLines(lines: Iterable<string>): Generator<Uint8Array> {
  let batch: string[] = [];
  for (const line of lines) {
    batch.push(line);
    if (batch.length === 4096) {
      yield encoder.encode(batch.join(""));
      batch = [];
    }
  }
  if (batch.length > 0) yield encoder.encode(batch.join(""));
}
