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
 * The text of the file at `path` (UTF-8, malformed bytes as U+FFFD, a leading BOM dropped, which
 * `Deno.readTextFile` keeps and a TOML or JSON parser refuses), or a BadInputError
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
  const decoder = new TextDecoder();
  const buf = new Uint8Array(64 * 1024);
  let text = "";
  let total = 0;
  for (let n = await file.read(buf); n !== null; n = await file.read(buf)) {
    total += n;
    if (total > maxBytes) {
      throw new BadInputError(
        `${what} ${JSON.stringify(path)} is larger than ${maxBytes} bytes`,
        options.hint === undefined ? {} : { hint: options.hint },
      );
    }
    text += decoder.decode(buf.subarray(0, n), { stream: true });
  }
  return text + decoder.decode();
}
