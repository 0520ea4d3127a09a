/**
 * The bytes every snapshot file starts with, in a module of its own so that a server listing
 * snapshots need not load the codec (node:crypto, node:zlib).
 *
 * @module
 */

/** The 8 magic bytes, `ADHSNAP1`. */
export const MAGIC: Uint8Array = new TextEncoder().encode("ADHSNAP1");

/** Whether the file at `path` starts with {@linkcode MAGIC}; false when it cannot be read. */
export async function startsWithMagic(path: string): Promise<boolean> {
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(path);
    const head = new Uint8Array(MAGIC.length);
    let got = 0;
    while (got < head.length) {
      const n = await file.read(head.subarray(got));
      if (n === null) return false;
      got += n;
    }
    return head.every((b, i) => b === MAGIC[i]);
  } catch {
    return false;
  } finally {
    file?.close();
  }
}
