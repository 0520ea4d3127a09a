/**
 * Reading a small text file (a config, a batch spec, a comparison) with a bound on its size.
 *
 * @module
 */

import { BadInputError } from "../errors.ts";

/**
 * Size past which {@linkcode readSmallText} refuses a file. Configs, batch specs and A/B
 * comparisons take a few KB; a file past this one is not one of them (a workload or an image
 * named by mistake, a device such as `/dev/zero`).
 */
export const MAX_SMALL_TEXT_BYTES = 16 * 1024 * 1024;

/**
 * The text of the file at `path`, decoded as `Deno.readTextFile` decodes it, or a BadInputError
 * naming `what` when it holds more than `maxBytes` bytes. `Deno.readTextFile` reads whatever
 * comes: a device that never ends (`/dev/zero`) grew the process until the system killed it, and
 * a regular file past the longest string V8 makes failed with an Internal TypeError. Errors of
 * opening and reading (NotFound, IsADirectory, ...) pass as they are, for the caller to word.
 */
export async function readSmallText(
  path: string,
  what: string,
  options: { hint?: string; maxBytes?: number } = {},
): Promise<string> {
  const maxBytes = options.maxBytes ?? MAX_SMALL_TEXT_BYTES;
  using file = await Deno.open(path, { read: true });
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const buf = new Uint8Array(64 * 1024);
    const n = await file.read(buf);
    if (n === null) break;
    total += n;
    if (total > maxBytes) {
      throw new BadInputError(
        `${what} ${JSON.stringify(path)} is larger than ${maxBytes} bytes`,
        options.hint === undefined ? {} : { hint: options.hint },
      );
    }
    chunks.push(buf.subarray(0, n));
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(bytes);
}
