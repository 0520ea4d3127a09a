/**
 * Reading a whole buffer: `read()` may return fewer bytes than asked (a pipe, a large read), so
 * a single call can leave part of a header or a record unread.
 *
 * @module
 */

/** Fills `buf` from `file`, calling `read()` until it is full or the file ends; the bytes read. */
export async function readFull(
  file: { read(p: Uint8Array): Promise<number | null> },
  buf: Uint8Array,
): Promise<Uint8Array> {
  let got = 0;
  while (got < buf.length) {
    const n = await file.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  return buf.subarray(0, got);
}
